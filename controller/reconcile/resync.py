"""The periodic resync: level-triggered, yet a round where nothing drifted writes nothing.

A Kubernetes controller resyncs by running its reconcile on every object again. Done that way
here (a RECONCILE per stack and round) it cost, at the default 60 s, ~1,440 commands, ~4,000 log
rows and ~0.9 MiB per stack and day, and each worker observed its stack on its own. A round
now looks at each engine once (``Backend.observe_fleet``: a Docker engine's four list calls, a
Swarm's five), reads the stacks and
their newest commands in two queries, and compares every stack with what it runs in memory: the
pure planner and health assessment on the stack's slice of the fleet, with the desired model of
its version cached (versions are immutable). Only a stack that needs work gets a command, a
RECONCILE whose first log line says what the round found:

- drift: its plan is not empty (a container removed, stopped or changed by hand, a network gone);
- its health is not the recorded one (it became unhealthy, or recovered), or it is recorded
  out of sync while nothing is left to change;
- its desired version is not applied (whatever a kill or a database fault lost);
- its newest command FAILED (it is tried again every round, as before);
- it has a ``pull_policy: always`` service: whether its image moved is known only by pulling,
  which the RECONCILE does (docs/convergence.md: such services pull at every apply and resync); or a
  ``daily``/``weekly``/``every_<duration>`` one and that long has passed since the stack was
  last converged.

A stack with a command pending or running is left alone (that command converges it anyway), and
so is a suspended one, whoever suspended it (``stackctl suspend``, or ``spec.suspend`` in its
desired version, applied or not): nothing changes at runtime until it is resumed, and it reads
Suspended whatever runs (``controller.db.suspension``), so a round has nothing to record for it.
(A suspended stack re-queued at every round, "v1 is not applied", kept 10,000 of them from
ever draining the queue.) The engine not answering ends the round with nothing written
(``/readyz`` says the engine is down; the next round looks again).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from controller.backends.docker.planner import pull_period
from controller.backends.engines import Engines
from controller.backends.interface import Backend, Fleet
from controller.db import Database
from controller.desired import DesiredStack
from controller.desired.engine_spec import LOCAL
from controller.models import (
    Command,
    CommandStatus,
    CommandType,
    LogLevel,
    Stack,
    SyncStatus,
)
from controller.models.errors import StackctlError
from controller.sources.versions import load_desired

log = logging.getLogger("stackctl.resync")

MAX_REASONS = 5  # drift lines named in a command's reason; its log has them all


@dataclass(frozen=True)
class Finding:
    """A stack that needs work, and why (one line a reason)."""

    stack: str
    reasons: tuple[str, ...]

    @property
    def summary(self) -> str:
        shown = "; ".join(self.reasons[:MAX_REASONS])
        more = len(self.reasons) - MAX_REASONS
        return shown + (f"; and {more} more" if more > 0 else "")


@dataclass(frozen=True)
class Round:
    """What one resync round looked at and queued."""

    stacks: int  # stacks compared with the engine
    skipped: int  # left alone: a command pending or running
    findings: tuple[Finding, ...]
    queued: tuple[int, ...]  # command ids
    # Engines that did not answer (name -> why): their stacks were left for the next round,
    # the other engines' stacks compared as usual.
    unreachable: tuple[tuple[str, str], ...] = ()
    suspended: int = 0  # left alone: suspended


class Resync:
    """Compares stacks with one fleet observation; queues a RECONCILE only where work is due."""

    def __init__(self, db: Database, engine: Backend | Engines) -> None:
        self._db = db
        self._engines = Engines.of(engine)
        self._desired: dict[tuple[str, str], DesiredStack] = {}  # (stack, version) -> model

    def round(self, names: Iterable[str]) -> Round:
        """Compare the stacks ``names`` (those the sources declare) and queue what is due."""
        wanted = set(names)
        stacks = [s for s in self._db.stacks.list() if s.stack_id in wanted]
        newest = self._db.commands.newest_by_stack()
        busy = {CommandStatus.PENDING, CommandStatus.RUNNING}
        active = [s for s in stacks if s.current_version is not None and not s.suspended]
        todo = [s for s in active if newest.get(s.stack_id, (None, None))[1] not in busy]
        findings: list[Finding] = []
        unreachable: list[tuple[str, str]] = []
        for engine, group in self._by_engine(todo).items():
            backend = self._engines.get(engine)
            try:
                fleet = backend.observe_fleet()
            except StackctlError as e:
                if len(self._engines) == 1:
                    raise  # the only engine: the round ends, as it always did
                unreachable.append((engine, str(e)))
                continue
            for stack in group:
                failed = newest.get(stack.stack_id, (None, None))[1] is CommandStatus.FAILED
                reasons = self._compare(stack, backend, fleet, failed=failed)
                if reasons:
                    findings.append(Finding(stack.stack_id, tuple(reasons)))
        self._forget(active)
        queued = tuple(self._queue(finding) for finding in findings)
        return Round(
            stacks=len(todo),
            skipped=len(active) - len(todo),
            findings=tuple(findings),
            queued=tuple(q for q in queued if q is not None),
            unreachable=tuple(unreachable),
            suspended=sum(s.suspended for s in stacks),
        )

    def _by_engine(self, stacks: list[Stack]) -> dict[str, list[Stack]]:
        """The stacks grouped by the engine their desired version targets: each engine is
        observed once. A stack on an undeclared engine is compared with nothing: its command
        says why it cannot run."""
        groups: dict[str, list[Stack]] = {}
        for stack in stacks:
            try:
                engine = self._model(stack).engine
            except StackctlError:  # unreadable: compared on `local`, where it says why
                engine = LOCAL
            groups.setdefault(engine, []).append(stack)
        return {name: group for name, group in groups.items() if name in self._engines.names()}

    def _pull_reasons(self, stack: Stack, desired: DesiredStack) -> list[str]:
        if any(s.pull_policy == "always" for s in desired.compose.services.values()):
            return ["pull_policy: always: the images are pulled to compare"]
        due = self._pull_due(stack, desired)
        return [due] if due else []

    def _pull_due(self, stack: Stack, desired: DesiredStack) -> str | None:
        """A service with ``daily``, ``weekly`` or ``every_<duration>`` whose period has passed
        since the stack was last converged (its row last written): the RECONCILE pulls what
        is older than that (the planner's rule), at most about once a period."""
        periods = [
            (period, s.pull_policy)
            for s in desired.compose.services.values()
            if (period := pull_period(s.pull_policy)) is not None
        ]
        if not periods:
            return None
        period, policy = min(periods)
        if self._db.clock() - stack.updated_at < period:
            return None
        return f"pull_policy: {policy}: the images older than that are pulled"

    def _compare(self, stack: Stack, backend: Backend, fleet: Fleet, *, failed: bool) -> list[str]:
        """Why ``stack`` needs a command now; empty when what runs is what was applied."""
        assert stack.current_version is not None
        if stack.applied_version != stack.current_version:
            return [f"{stack.current_version} is not applied (applied: {stack.applied_version})"]
        reasons = ["its last command failed: it is tried again"] if failed else []
        desired = self._model(stack)
        observed = backend.in_fleet(fleet, desired)
        the_plan = backend.plan(desired, observed, previous=desired)
        health, why = backend.health(desired, observed)
        reasons += [f"drift: {step.describe()}" for step in the_plan.changes]
        reasons += the_plan.problems
        if backend.pulls_images:  # a Swarm's nodes pull when they start tasks
            reasons += self._pull_reasons(stack, desired)
        if the_plan.in_sync and health is not stack.health_status:
            reasons.append(
                f"health: recorded {stack.health_status}, observed {health}"
                + (f" ({why})" if why else "")
            )
        if the_plan.in_sync and stack.sync_status is not SyncStatus.SYNCED:
            reasons.append(f"recorded {stack.sync_status}, observed in sync")
        return reasons

    def _model(self, stack: Stack) -> DesiredStack:
        assert stack.current_version is not None
        key = (stack.stack_id, stack.current_version)
        if key not in self._desired:
            version = self._db.stack_versions.require(stack.stack_id, stack.current_version)
            self._desired[key] = load_desired(self._db, version)
        return self._desired[key]

    def _forget(self, stacks: list[Stack]) -> None:
        """Drop the cached models of versions no stack is at any more."""
        current = {(s.stack_id, s.current_version) for s in stacks}
        for key in [k for k in self._desired if k not in current]:
            del self._desired[key]

    def _queue(self, finding: Finding) -> int | None:
        """A RECONCILE for the stack, its log saying what the round found; ``None`` when a
        command was queued meanwhile (it converges the stack anyway)."""
        with self._db.transaction():
            command, created = self._db.commands.enqueue_unless_pending(
                Command(
                    stack_id=finding.stack,
                    type=CommandType.RECONCILE,
                    payload={"reason": f"resync: {finding.summary}"},
                )
            )
            if not created:
                return None
            assert command.command_id is not None
            for reason in finding.reasons:
                self._db.command_logs.add(command.command_id, LogLevel.INFO, f"resync: {reason}")
        log.info(
            "resync: queued command %s: RECONCILE %s (%s)",
            command.command_id,
            finding.stack,
            finding.summary,
        )
        return command.command_id
