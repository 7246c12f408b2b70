"""Deliveries remembers which delivery ids were handled: bounded, least recently seen forgotten
first, and one answer per id however many threads ask at once."""

from __future__ import annotations

import threading

import pytest

from controller.sources.git.deliveries import Deliveries


def test_an_id_is_new_once_then_seen():
    deliveries = Deliveries()
    assert deliveries.seen_before("f6266f16-1bf3-46a5-9ea4-602e06ead473") is False
    assert deliveries.seen_before("f6266f16-1bf3-46a5-9ea4-602e06ead473") is True
    assert deliveries.seen_before("763c374e-fbc8-11e3-9918-1e687924f7ff") is False


@pytest.mark.parametrize("missing", [None, ""])
def test_a_request_without_an_id_is_never_a_redelivery(missing):
    deliveries = Deliveries()
    assert deliveries.seen_before(missing) is False
    assert deliveries.seen_before(missing) is False
    assert len(deliveries) == 0


def test_the_least_recently_seen_id_is_forgotten_first():
    deliveries = Deliveries(capacity=3)
    for delivery in "abc":
        deliveries.seen_before(delivery)
    assert deliveries.seen_before("a")  # seen again: now the most recent
    deliveries.seen_before("d")  # evicts b
    assert len(deliveries) == 3
    assert deliveries.seen_before("a")
    assert deliveries.seen_before("c")
    assert not deliveries.seen_before("b")


def test_the_default_memory_holds_ten_thousand_ids():
    deliveries = Deliveries()
    for n in range(10_001):
        deliveries.seen_before(f"id-{n}")
    assert len(deliveries) == 10_000
    assert deliveries.seen_before("id-10000")
    assert not deliveries.seen_before("id-0")


def test_a_forgotten_id_counts_as_new_so_the_senders_retry_is_handled():
    deliveries = Deliveries()
    deliveries.seen_before("a")
    deliveries.forget("a")
    deliveries.forget("never seen")
    deliveries.forget(None)
    assert not deliveries.seen_before("a")


def test_a_memory_with_no_room_is_refused():
    with pytest.raises(ValueError):
        Deliveries(capacity=0)


def test_concurrent_askers_get_one_new_per_id():
    deliveries = Deliveries()
    ids = [f"id-{n}" for n in range(2_000)]
    start = threading.Barrier(8)
    new_counts: list[int] = []
    lock = threading.Lock()

    def ask() -> None:
        start.wait()
        new = sum(not deliveries.seen_before(delivery) for delivery in ids)
        with lock:
            new_counts.append(new)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(new_counts) == 8
    assert sum(new_counts) == len(ids)
