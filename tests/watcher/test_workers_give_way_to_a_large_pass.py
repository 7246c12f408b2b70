"""While the watcher records a large pass (more than ``BATCH`` new versions: 10,000 manifests
dropped at once), every worker but the first gives way (issue 27, goal 3: the workers converging
in the same process took the GIL and the cores from the recording); the first keeps converging
the first stacks at once, and the others are woken when the pass ends."""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar

import pytest

from controller.daemon import workers
from controller.daemon.life import Life
from controller.sources import effects
from controller.sources.effects import BulkRecording
from controller.sources.watcher import Watcher


def manifest(name: str) -> str:
    return (
        f"apiVersion: stackctl/v1\nkind: Stack\nmetadata:\n  name: {name}\nspec:\n"
        "  compose:\n    services:\n      web:\n        image: img:1\n"
    )


@pytest.mark.parametrize(("stacks", "large"), [(4, False), (5, True)])
def test_a_pass_is_bulk_while_it_records_more_than_a_batch(
    db, root, monkeypatch, stacks: int, large: bool
):
    monkeypatch.setattr(effects, "BATCH", 4)
    for n in range(stacks):
        (root / f"s{n}.yaml").write_text(manifest(f"s{n}"))
    ended: list[int] = []
    bulk = BulkRecording(on_end=lambda: ended.append(1))
    seen: list[bool] = []
    watcher = Watcher(db, root, bulk=bulk, on_enqueue=lambda: seen.append(bulk.active))
    assert len(watcher.sync().recorded) == stacks
    assert seen and all(active is large for active in seen)  # each batch's wake-up saw it
    assert not bulk.active and ended == ([1] if large else [])
    (root / "s0.yaml").write_text(manifest("s0").replace("img:1", "img:2"))
    seen.clear()
    assert watcher.sync().recorded == ["s0 v2"]
    assert seen == [False]  # one change: the workers all run


class FakeWorker:
    """Counts its claims (it finds nothing to run)."""

    claims: ClassVar[dict[str, int]] = {}

    def __init__(self, *args: Any, worker_id: str, **kwargs: Any):
        self.worker_id = worker_id
        self.claimed_ahead = False
        FakeWorker.claims[worker_id] = 0

    def run_next(self) -> None:
        FakeWorker.claims[self.worker_id] += 1

    def release_claimed(self) -> None:
        pass


def until(condition: Any) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_all_workers_but_the_first_wait_while_a_large_pass_records(monkeypatch):
    monkeypatch.setattr(workers, "Worker", FakeWorker)
    monkeypatch.setattr(workers, "IDLE_WAIT", 0.01)
    bulk, life = BulkRecording(), Life()
    options = {"holder": "h", "options": None, "life": life, "on_outcome": lambda: None}
    threads = [
        threading.Thread(
            target=workers.work, args=(None, None), kwargs={**options, "index": i, "bulk": bulk}
        )
        for i in (0, 1)
    ]
    try:
        with bulk.recording(effects.BATCH + 1):
            for thread in threads:
                thread.start()
            until(lambda: FakeWorker.claims.get("h-w0", 0) >= 3)  # the first one runs
            assert FakeWorker.claims["h-w1"] == 0  # the others look, and wait
        until(lambda: FakeWorker.claims["h-w1"] >= 1)  # the pass ended: they all run
    finally:
        life.stop.set()
        for thread in threads:
            thread.join(timeout=10)
