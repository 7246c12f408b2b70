"""``operations.move`` (``stackctl move STACK [ENGINE]``): the move it approves is the one the
desired version's target says; an ENGINE given that is not that target is refused with nothing
queued, and one that is queues the move; nothing to move is refused. No engine needed."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.seeding import record
from helpers.stacks import desired_stack

from controller.commands.operations import move
from controller.db import Database
from controller.models.errors import ConflictError
from controller.sources.versions import record_version

IMAGE = "stackctl-test/busybox:1"


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(db_path=tmp_path / "stackctl.db")
    yield database
    database.close()


def retarget(db: Database, tmp: Path, engine: str) -> None:
    desired = desired_stack(tmp / "v2", "shop", {"services": {"app": {"image": IMAGE}}},
                            target={"engine": engine})  # fmt: skip
    assert record_version(db, desired, root=tmp / "v2") is not None


def test_an_engine_other_than_the_target_is_refused_and_the_target_approved(
    db: Database, tmp_path: Path
) -> None:
    record(db, tmp_path, "shop", IMAGE, applied=True)  # v1 on local
    retarget(db, tmp_path, "edge")  # v2 targets edge
    with pytest.raises(ConflictError, match="targets engine 'edge', not 'prod'"):
        move(db, "shop", "prod")
    assert db.commands.list(stack_id="shop").items == []
    command = move(db, "shop", "edge")
    assert command.payload["move"] == {"from": "local", "to": "edge"}


def test_nothing_to_move_is_refused(db: Database, tmp_path: Path) -> None:
    record(db, tmp_path, "shop", IMAGE, applied=True)
    with pytest.raises(ConflictError, match="nothing to move"):
        move(db, "shop", "local")
    assert db.commands.list(stack_id="shop").items == []
