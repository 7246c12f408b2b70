"""``rollbacks.auto_rollback`` and ``rollback_failed`` on a database alone: the automatic
rollback is a new version with the pin of a manual one, its APPLY queued and a ``RolledBack``
event with what a notification needs; ``stack_conditions`` (``stackctl describe``) says why."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.seeding import record

from controller.commands.operations import stack_conditions
from controller.db import Database
from controller.delivery.rollbacks.decision import AUTO_ROLLBACK_BY
from controller.delivery.rollbacks.record import auto_rollback, rollback_failed
from controller.models import CommandType, LogLevel
from controller.models.errors import ConflictError

WHY = "shop-web-1 is unhealthy after 3 s"


def test_auto_rollback_records_a_copy_pins_and_queues_its_apply(tmp_path: Path):
    db = Database(db_path=tmp_path / "s.db")
    record(db, tmp_path, "shop", "i:1", applied=True)
    record(db, tmp_path, "shop", "i:2", applied=False)
    command = auto_rollback(db, "shop", from_version="v2", to_version="v1", why=WHY, root=tmp_path)
    assert command.type is CommandType.APPLY_STACK_VERSION
    assert command.payload == {"version": "v3", "rollback_to": "v1"}
    stack = db.stacks.require("shop")
    assert (stack.current_version, stack.pinned) == ("v3", True)
    v1, v3 = db.stack_versions.require("shop", "v1"), db.stack_versions.require("shop", "v3")
    assert (v3.digest, v3.parent_version) == (v1.digest, "v2")
    assert v3.metadata.created_by == AUTO_ROLLBACK_BY
    assert v3.metadata.comment == f"rolled back from v2 to v1: {WHY}"
    [event] = db.events.list(stack_id="shop").items
    assert (event.reason, event.level) == ("RolledBack", LogLevel.WARNING)
    assert event.message.startswith(f"rolled back from v2 to v1: {WHY}; recorded as v3")
    assert {k: event.data[k] for k in ("from", "to", "target", "reason")} == {
        "from": "v2",
        "to": "v1",
        "target": "v3",
        "reason": WHY,
    }

    pinned = {c.type: c for c in stack_conditions(stack, latest_version="v3", current=v3)}
    assert pinned["Pinned"].reason == "RolledBackAutomatically"
    assert pinned["Pinned"].message.startswith(f"rolled back from v2 to v1: {WHY} (automatic")
    without = {c.type: c for c in stack_conditions(stack, latest_version="v3")}
    assert without["Pinned"].reason == "RolledBack"  # callers that do not pass the version

    from fastapi.testclient import TestClient

    from controller.web.api.app import create_app

    with TestClient(create_app(db_path=tmp_path / "s.db")) as client:  # the API says it too
        conditions = client.get("/api/v1/stacks/shop").json()["conditions"]
    (api_pinned,) = [c for c in conditions if c["type"] == "Pinned"]
    assert api_pinned["reason"] == "RolledBackAutomatically"
    assert api_pinned["message"].startswith(f"rolled back from v2 to v1: {WHY}")
    db.close()


def test_a_stack_that_moved_on_is_not_rolled_back(tmp_path: Path):
    db = Database(db_path=tmp_path / "s.db")
    record(db, tmp_path, "shop", "i:1", applied=True)
    record(db, tmp_path, "shop", "i:2", applied=False)
    record(db, tmp_path, "shop", "i:3", applied=False)
    with pytest.raises(ConflictError, match="is at v3, not v2"):
        auto_rollback(db, "shop", from_version="v2", to_version="v1", why=WHY, root=tmp_path)
    assert [v.version for v in db.stack_versions.list("shop")] == ["v1", "v2", "v3"]
    assert not db.stacks.require("shop").pinned
    assert db.events.list(stack_id="shop").items == []
    db.close()


def test_rollback_failed_is_an_event_and_the_last_error(tmp_path: Path):
    db = Database(db_path=tmp_path / "s.db")
    record(db, tmp_path, "shop", "i:1", applied=False)
    rollback_failed(db, "shop", version="v1", why="no version before v1 was ever healthy")
    [event] = db.events.list(stack_id="shop").items
    assert (event.reason, event.level) == ("RollbackFailed", LogLevel.ERROR)
    assert event.data["version"] == "v1"
    assert db.stacks.require("shop").last_error == (
        "automatic rollback: no version before v1 was ever healthy"
    )
    assert db.stacks.require("shop").current_version == "v1"
    db.close()
