"""A worker claims with the concurrency of the engines it was given (issue 16): with engine
``one`` (``concurrency: 1``) busy elsewhere, it takes the next command of another engine, on
its own claim and on the claim chained to a completion. The queue side only: the reconcile
step is replaced and the engines are never connected to."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from controller.backends.engines import Engines
from controller.commands.worker import Worker, engine_limits
from controller.db import Database
from controller.desired.engine_spec import EngineSpec
from controller.models import Command, CommandStatus, CommandType, Stack
from controller.models.stack_version import ComposeDefinition, StackVersion
from controller.reconcile.reconciler import ReconcilerOptions

SPECS = {
    "local": EngineSpec(name="local", concurrency=3),
    "one": EngineSpec(name="one", host="tcp://127.0.0.1:1", concurrency=1),
}


@pytest.fixture
def db(tmp_path: Path):
    with Database(db_path=tmp_path / "stackctl.db") as database:
        for name, engine in (("a", "one"), ("b", "one"), ("c", None), ("d", None)):
            database.stacks.create(Stack(stack_id=name, name=name))
            target = {} if engine is None else {"x-stackctl": {"target": {"engine": engine}}}
            compose = ComposeDefinition.model_validate({"services": {}, **target})
            database.stack_versions.create(StackVersion(stack_id=name, compose=compose))
        yield database


def enqueue(db: Database, stack_id: str) -> Command:
    return db.commands.enqueue(Command(stack_id=stack_id, type=CommandType.RECONCILE))


def test_the_limits_are_the_engines_concurrency():
    assert engine_limits(Engines(SPECS)) == {"local": 3, "one": 1}


def test_a_busy_engine_leaves_the_worker_to_the_others(db: Database, tmp_path: Path):
    worker = Worker(
        db,
        Engines(SPECS),
        worker_id="w",
        stop=threading.Event(),
        chain=True,
        options=ReconcilerOptions(files_dir=tmp_path / "files", worker_limit=4),
    )
    ran: list[str] = []

    def reconcile(command: Command, *, check) -> None:
        ran.append(command.stack_id)

    worker.reconciler.reconcile = reconcile  # type: ignore[method-assign]
    busy = enqueue(db, "a")
    elsewhere = db.commands.claim(worker_id="other", limit=4)  # engine one is now full
    assert elsewhere is not None and elsewhere.command_id == busy.command_id
    waiting = enqueue(db, "b")  # older than c's and d's, but on the full engine
    enqueue(db, "c")
    later = enqueue(db, "d")
    worker.run_next()  # its own claim: c
    assert ran == ["c"]
    # c's completion claimed the next in the same transaction: d, not b.
    assert db.commands.require(later.command_id).status is CommandStatus.RUNNING  # type: ignore[arg-type]
    worker.run_next()
    assert ran == ["c", "d"]
    assert db.commands.require(waiting.command_id).status is CommandStatus.PENDING  # type: ignore[arg-type]
