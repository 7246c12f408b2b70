"""``Removals``: taking a stack off an engine: a DELETE, and the old engine's side of a move.

A delete removes what the engine its applied version ran on runs for it (a stack that never
converged: whatever ``local`` has), dependents first, then records the stack deleted (or, when
its manifest was restored meanwhile, out of sync: the APPLY queued after it finds a version).
A move (``stackctl move``) is approved by its command's payload only (``approve_move``); its
old side is torn down there first, volumes kept. What goes is the backend's teardown
(``Backend.teardown``: on a Swarm, volumes stay on the nodes).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from controller.backends.engines import Engines
from controller.backends.interface import Backend
from controller.backends.shared.steps import Plan
from controller.db import Database
from controller.desired import DesiredStack
from controller.desired.ordering import dependency_levels
from controller.models import Command, CommandType, HealthStatus, LogLevel, SyncStatus
from controller.models.errors import PermanentError
from controller.reconcile.engine_steps import EngineSteps
from controller.sources.versions import load_desired


def approve_move(command: Command, previous: DesiredStack, *, to: str) -> None:
    """A change of engine is never done silently: only the one ``stackctl move``
    approved (this command's payload) goes on."""
    approved = command.payload.get("move") or {}
    if approved.get("from") != previous.engine or approved.get("to") != to:
        raise PermanentError(
            f"{previous.name} runs on engine {previous.engine!r} and its manifest now says"
            f" {to!r}: moving tears the stack down there and creates it here (its volumes'"
            f" data stays there), so it is never done silently; put the target back, or"
            f" approve the move with `stackctl move {previous.name}`"
        )


class Removals:
    def __init__(self, db: Database, engines: Engines, steps: EngineSteps, *, root: Path) -> None:
        self._db = db
        self._engines = engines
        self._steps = steps
        self._root = root  # for plans carried out without a version

    def move_away(
        self, command: Command, previous: DesiredStack, *, to: str, check: Callable[[], None]
    ) -> None:
        """Tear the stack down on the engine it ran on (its volumes kept). Run again after a
        kill, it finds nothing left there and goes on."""
        self._steps.log(
            command,
            LogLevel.INFO,
            f"{previous.name}: moving from engine {previous.engine!r} to {to!r}: torn down there"
            " first (volumes kept)",
        )
        self.tear_down(
            command,
            previous.name,
            engine=self._engines.get(previous.engine),
            order=dependency_levels(previous.compose.services),
            remove_volumes=False,
            check=check,
        )

    def delete(self, command: Command, check: Callable[[], None]) -> Plan:
        stack_id = command.stack_id
        order: list[list[str]] = []
        engine = self._engines.local  # where a stack that never converged could have things
        stack = self._db.stacks.get(stack_id)
        if stack and stack.applied_version:
            applied = self._db.stack_versions.get(stack_id, stack.applied_version)
            if applied:
                running = load_desired(self._db, applied)
                order = dependency_levels(running.compose.services)
                engine = self._engines.get(running.engine)
        the_plan = self.tear_down(
            command,
            stack_id,
            engine=engine,
            order=order,
            remove_volumes=bool(command.payload.get("remove_volumes")),
            check=check,
        )
        assert command.command_id is not None
        with self._db.transaction():
            # Deleted is what is wanted now, unless the stack was asked back meanwhile (its
            # manifest restored: an APPLY queued after this DELETE, which must find a version).
            back = self._db.commands.pending_after(
                stack_id, command.command_id, type=CommandType.APPLY_STACK_VERSION
            )
            self._db.stacks.update(
                stack_id,
                applied_version=None,
                sync_status=SyncStatus.OUT_OF_SYNC if back else SyncStatus.SYNCED,
                health_status=HealthStatus.MISSING,
                last_error=None,
                **({} if back else {"current_version": None}),
            )
        return the_plan

    # -- helpers -----------------------------------------------------------------------------

    def tear_down(
        self,
        command: Command,
        stack_id: str,
        *,
        engine: Backend,
        order: list[list[str]],
        remove_volumes: bool,
        check: Callable[[], None],
    ) -> Plan:
        """Remove what ``engine`` runs for the stack, dependents first (a delete, or the old
        engine's side of a move); returns the plan carried out."""
        the_plan = engine.teardown(
            engine.observe(stack_id), order=order, remove_volumes=remove_volumes
        )
        self._steps.execute(
            command,
            the_plan,
            check=check,
            desired=None,
            version=None,
            root=self._root,
            engine=engine,
        )
        return the_plan
