"""The outbox: a message exists exactly when the change it tells about was committed, once per
transition, and repeats on a topic are coalesced."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.stacks import desired_stack

from controller.db import Database
from controller.db.outbox import Route
from controller.models import Event, LogLevel, Stack
from controller.sources.versions import record_version

COMPOSE = {"services": {"web": {"image": "busybox:1", "pull_policy": "never"}}}


@pytest.fixture
def db(tmp_path: Path):
    with Database(db_path=tmp_path / "stackctl.db") as database:
        yield database


def kinds(db: Database) -> list[str]:
    return [m["kind"] for m in reversed(db.outbox.messages(limit=100))]


def test_a_recorded_version_has_its_message_and_a_rolled_back_one_has_none(
    db: Database, tmp_path: Path
):
    desired = desired_stack(tmp_path, "shop", COMPOSE)
    record_version(db, desired, root=tmp_path)
    assert kinds(db) == ["version.recorded"]
    (message,) = db.outbox.unrouted()
    assert message.key == "version:shop:v1"
    assert message.payload["version"] == "v1"
    assert "shop v1 recorded" in message.payload["message"]

    changed = desired_stack(tmp_path, "shop", {"services": {"web": {"image": "busybox:2"}}})
    with pytest.raises(RuntimeError), db.transaction():
        record_version(db, changed, root=tmp_path)
        raise RuntimeError("the transaction fails after the version was written")
    assert kinds(db) == ["version.recorded"]  # no v2, no message about it
    assert db.stack_versions.latest("shop").version == "v1"


def test_the_same_key_is_one_message(db: Database):
    for _ in range(3):
        db.outbox.add("apply.started", key="apply.started:7", stack_id=None, payload={})
    assert kinds(db) == ["apply.started"]


def test_a_repeated_fingerprint_on_a_topic_is_said_once_until_it_changes(db: Database):
    def fail(n: int) -> bool:
        return db.outbox.add(
            "apply.failed",
            key=f"apply.failed:{n}",
            stack_id="shop",
            payload={},
            topic="outcome",
            fingerprint="failed:v2:image missing",
        )

    assert fail(1) is True
    assert fail(2) is False and fail(3) is False  # every resync fails the same way
    db.outbox.remember("shop", "outcome", "ok:v2")  # then it worked once, silently
    assert fail(4) is True  # and the failure is news again
    assert kinds(db) == ["apply.failed", "apply.failed"]


def test_notifying_events_get_a_message_in_their_transaction(db: Database):
    db.stacks.create(Stack(stack_id="shop", name="shop"))
    db.events.add(Event(stack_id="shop", reason="ControllerStarted", message="no message"))
    db.events.add(
        Event(
            stack_id="shop",
            level=LogLevel.WARNING,
            reason="StackUnhealthy",
            message="shop is Degraded: web unhealthy",
        )
    )
    db.events.add(Event(stack_id="shop", reason="RolledBack", message="rolled back from v2 to v1"))
    assert kinds(db) == ["health.degraded", "rollback.done"]

    with pytest.raises(RuntimeError), db.transaction():
        db.events.add(Event(stack_id="shop", reason="RollbackFailed", message="no version"))
        raise RuntimeError
    assert kinds(db) == ["health.degraded", "rollback.done"]


def test_an_invalid_manifest_is_said_once_until_it_is_fixed(db: Database):
    def invalid() -> None:
        db.events.add(
            Event(
                stack_id="shop",
                level=LogLevel.WARNING,
                reason="ManifestInvalid",
                message="shop.yaml:3: services.web.image: required",
            )
        )

    invalid()
    invalid()
    assert kinds(db) == ["manifest.invalid"]
    db.events.add(Event(stack_id="shop", reason="ManifestFixed", message="shop.yaml is valid"))
    invalid()
    assert kinds(db) == ["manifest.invalid", "manifest.invalid"]


def test_a_message_is_routed_once_and_its_deliveries_retried_until_sent(db: Database):
    db.outbox.add("apply.failed", key="k1", stack_id=None, payload={"message": "m"})
    (message,) = db.outbox.unrouted()
    routes = [Route("aaa", "json://127.0.0.1:1"), Route("bbb", "ntfy://x")]
    db.outbox.route(message.message_id, routes)
    db.outbox.route(message.message_id, routes)  # a second router finds it done
    assert db.outbox.unrouted() == []
    due = db.outbox.due()
    assert [d.destination for d in due] == ["aaa", "bbb"]
    db.outbox.retry(due[0].delivery_id, error="answered 500", at=db.clock().replace(year=2999))
    db.outbox.sent(due[1].delivery_id)
    assert db.outbox.due() == []
    assert db.outbox.counts() == {("json://127.0.0.1:1", "PENDING"): 1, ("ntfy://x", "SENT"): 1}


def test_compaction_removes_old_told_messages_and_keeps_those_still_retrying(tmp_path: Path):
    from datetime import UTC, datetime, timedelta

    from controller.db import RetentionPolicy

    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    with Database(db_path=tmp_path / "c.db", clock=lambda: now[0]) as db:
        for key in ("told", "retrying", "new"):
            if key == "new":
                now[0] += timedelta(days=40)
            db.outbox.add("apply.failed", key=key, stack_id=None, payload={})
            (message,) = db.outbox.unrouted()
            db.outbox.route(message.message_id, [Route("aaa", "json://127.0.0.1:1")])
            (delivery,) = db.outbox.due()
            if key == "told":
                db.outbox.sent(delivery.delivery_id)
            if key == "retrying":
                db.outbox.retry(delivery.delivery_id, error="500", at=now[0] + timedelta(days=99))
        db.retention.compact(RetentionPolicy(event_days=30))
        assert sorted(m["key"] for m in db.outbox.messages()) == ["new", "retrying"]
        assert db.outbox.counts() == {("json://127.0.0.1:1", "PENDING"): 2}
