"""A small harness for convergence tests: a database, a real engine and a reconciler."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.backends.docker import Engine
from controller.commands.worker import Outcome, Worker
from controller.db import Database
from controller.desired import DesiredStack
from controller.models import Command, CommandType
from controller.reconcile.reconciler import ReconcilerOptions
from controller.sources.versions import record_version
from helpers.stacks import desired_stack


@dataclass
class Harness:
    tmp: Path
    db: Database
    engine: Engine
    worker: Worker
    lines: list[str]

    def stack(self, name: str, compose: dict[str, Any], **spec: Any) -> DesiredStack:
        return desired_stack(self.tmp, name, compose, **spec)

    def apply(self, desired: DesiredStack, *, root: Path | None = None) -> Outcome:
        """Record ``desired`` (loaded from ``root``) and converge it."""
        version = record_version(self.db, desired, root=root or self.tmp)
        kind = CommandType.APPLY_STACK_VERSION if version else CommandType.RECONCILE
        return self.run(Command(stack_id=desired.name, type=kind))

    def reconcile(self, name: str) -> Outcome:
        return self.run(Command(stack_id=name, type=CommandType.RECONCILE))

    def delete(self, name: str, *, volumes: bool = False) -> Outcome:
        return self.run(Command(stack_id=name, type=CommandType.DELETE_STACK,
                                payload={"remove_volumes": volumes}))

    def run(self, command: Command) -> Outcome:
        queued = self.db.commands.enqueue(command)
        outcome = self.worker.run_next()
        assert outcome is not None and outcome.command.command_id == queued.command_id
        return outcome

    def containers(self, name: str) -> dict[str, str]:
        """container name -> id, for the stack."""
        return {c.name: c.id for c in self.engine.observe(name).containers}

    def log_messages(self, outcome: Outcome) -> list[str]:
        assert outcome.command.command_id is not None
        return [line.message for line in self.db.command_logs.list(outcome.command.command_id)]


def make_harness(tmp: Path, *, wait_timeout: float = 60.0, engine: Engine | None = None
                 ) -> Harness:
    db = Database(db_path=tmp / "stackctl.db")
    engine = engine or Engine()
    lines: list[str] = []
    worker = Worker(db, engine, worker_id="test", echo=lines.append,
                            options=ReconcilerOptions(files_dir=tmp / "files",
                                                      wait_timeout=wait_timeout))
    return Harness(tmp, db, engine, worker, lines)
