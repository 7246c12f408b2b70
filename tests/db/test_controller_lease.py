"""One controller per database: the lease is taken once, renewed, released, taken over when
its holder died."""

from __future__ import annotations

from controller.db import Database


def test_second_holder_is_refused_until_expiry(db: Database, clock):
    first = db.leases.acquire(holder="a", pid=1, hostname="h", ttl=10)
    assert first is not None and first.holder == "a"
    assert db.leases.acquire(holder="b", pid=2, hostname="h", ttl=10) is None
    clock.advance(11)
    assert db.leases.live() is None
    taken = db.leases.acquire(holder="b", pid=2, hostname="h", ttl=10)
    assert taken is not None and taken.holder == "b"
    assert db.leases.renew(holder="a", ttl=10) is False


def test_renew_and_release(db: Database, clock):
    db.leases.acquire(holder="a", pid=1, hostname="h", ttl=10)
    clock.advance(8)
    assert db.leases.renew(holder="a", ttl=10)
    clock.advance(8)
    assert db.leases.live().holder == "a"
    db.leases.release(holder="a")
    assert db.leases.current() is None
    assert db.leases.acquire(holder="b", pid=2, hostname="h", ttl=10) is not None


def test_a_dead_holder_can_be_taken_over_at_once(db: Database):
    db.leases.acquire(holder="dead", pid=1, hostname="h", ttl=10)
    assert db.leases.acquire(holder="new", pid=2, hostname="h", ttl=10) is None
    taken = db.leases.acquire(holder="new", pid=2, hostname="h", ttl=10, take_over="dead")
    assert taken is not None and taken.holder == "new"
