"""The watch over a new version until it is healthy, rolled back, or reported: the reconciler's side
of ``spec.rollback.onFailure``. It gathers the facts from the store, asks the pure
``controller.delivery.rollbacks.decision.decide_rollback`` and carries the answer out through
``rollbacks`` (a
rollback is a new version with the pin of a manual one: docs/architecture.md, "Decisions the code
relies on"). It never touches the engine nor the queue beyond what ``rollbacks`` enqueues, and it
never raises into the worker: a rollback that cannot be carried out is reported as
``RollbackFailed``.

The health timeout (``spec.timeout``, else the controller's ``wait_timeout``) counts from the
end of the apply, in the database's clock, across the health follow-ups: when the wait is cut
short for other work, the follow-up RECONCILE carries ``{"version", "since"}`` and waits only
what is left; a look at the deadline (or after it: the follow-up's delay may overrun the timeout
by ``follow_up_after``, never shorten it) that finds the stack still not Healthy decides. A
Degraded stack (a container unhealthy or exited in error) is decided at once, as Swarm's
``failure_action: rollback`` does. A watched version looked at by a plain RECONCILE (its
follow-up was coalesced into another command, or lost) starts its timeout again there: the
timeout may be waited longer, never shorter.

Which versions are watched: the desired version while it was never seen Healthy, not yet decided
about, and either asking for ``onFailure`` or made by an automatic rollback (whose failure is
reported, never rolled back again). Every other version is looked at as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from controller.db import Database
from controller.delivery.rollbacks.decision import (
    AUTO_ROLLBACK_BY,
    Action,
    Decision,
    VersionFacts,
    decide_rollback,
)
from controller.delivery.rollbacks.record import auto_rollback, rollback_failed
from controller.desired import DesiredStack
from controller.models import Command, CommandType, HealthStatus, LogLevel, StackVersion
from controller.models.errors import StackctlError
from controller.sources.versions import load_desired

DECISIONS = ("RolledBack", "RollbackFailed")  # the events that record a decision
DECISIONS_SCANNED = 200  # newest events of the stack looked through for earlier decisions


@dataclass(frozen=True)
class Watch:
    """A watched version's health timeout: started ``since``, ``wait`` seconds left."""

    version: str
    since: datetime
    wait: float
    timeout: float

    def follow_up(self) -> dict[str, Any]:
        """What a health follow-up carries so that it counts from the same start."""
        return {"version": self.version, "since": self.since.isoformat()}


Log = Callable[[Command, LogLevel, str], None]


class RollbackWatch:
    def __init__(self, db: Database, *, root: Path, log: Log) -> None:
        self._db = db
        self._root = root
        self._log = log

    def begin(
        self,
        command: Command,
        *,
        version: StackVersion,
        desired: DesiredStack,
        changed: bool,
        timeout: float,
    ) -> Watch | None:
        """The watch of ``version`` if it is watched (see the module's docstring): from now
        when the command changed something or looks without a start, else from the start its
        follow-up carries."""
        if not self._watched(version, desired):
            return None
        assert version.version is not None
        now = self._db.clock()
        since = None if changed else _since(command, version.version)
        since = now if since is None or since > now else since
        left = max(0.0, timeout - (now - since).total_seconds())
        return Watch(version.version, since, left, timeout)

    def judge_health(
        self,
        command: Command,
        *,
        watch: Watch,
        version: StackVersion,
        desired: DesiredStack,
        health: HealthStatus,
        why: str,
    ) -> None:
        """The wait ended (at the deadline, or Degraded) and the stack is not Healthy: decide."""
        waited = (self._db.clock() - watch.since).total_seconds()
        trouble = (
            f"{why} after {waited:.0f} s"
            if health is HealthStatus.DEGRADED
            else f"not healthy within {watch.timeout:.0f} s ({why})"
        )
        self._decide(command, version=version, desired=desired, trouble=trouble)

    def judge_failure(self, command: Command, error: BaseException) -> None:
        """A command failed for good: an APPLY, or any command of a version never applied."""
        stack = self._db.stacks.get(command.stack_id)
        if stack is None or stack.current_version is None:
            return
        if command.type is not CommandType.APPLY_STACK_VERSION and (
            stack.applied_version == stack.current_version
        ):
            return
        version = self._db.stack_versions.get(stack.stack_id, stack.current_version)
        if version is None:
            return
        try:
            desired = load_desired(self._db, version)
        except StackctlError:
            desired = None  # an unreadable version decides on its metadata alone
        self._decide(command, version=version, desired=desired, trouble=f"apply failed: {error}")

    # -- facts and acts ----------------------------------------------------------------------

    def _watched(self, version: StackVersion, desired: DesiredStack) -> bool:
        if version.healthy_at is not None:
            return False  # the common case, answered without reading events
        auto = version.metadata.created_by == AUTO_ROLLBACK_BY
        if not (desired.rollback.on_failure or auto):
            return False
        return not self._facts(version, desired).decided

    def _facts(self, version: StackVersion, desired: DesiredStack | None) -> VersionFacts:
        assert version.version is not None
        label = version.version
        decided, frm, to = False, None, None
        events = self._db.events.list(stack_id=version.stack_id, limit=DECISIONS_SCANNED).items
        for event in events:
            data = event.data or {}
            if event.reason not in DECISIONS:
                continue
            decided = decided or data.get("version") == label
            if event.reason == "RolledBack" and data.get("target") == label and frm is None:
                frm, to = data.get("from"), data.get("to")
        return VersionFacts(
            version=label,
            on_failure=bool(desired and desired.rollback.on_failure),
            healthy_before=version.healthy_at is not None,
            created_by=version.metadata.created_by,
            decided=decided,
            rolled_back_from=frm,
            rolled_back_to=to,
        )

    def _decide(
        self,
        command: Command,
        *,
        version: StackVersion,
        desired: DesiredStack | None,
        trouble: str,
    ) -> None:
        stack = self._db.stacks.require(version.stack_id)  # as it is now, not as it was
        facts = self._facts(version, desired)
        last = self._db.stack_versions.last_healthy(stack.stack_id, before=facts.version)
        decision = decide_rollback(
            failed=facts,
            trouble=trouble,
            current_version=stack.current_version,
            suspended=stack.suspended,
            last_healthy=last.version if last else None,
        )
        if decision.action is Action.NOTHING:
            if facts.on_failure or facts.created_by == AUTO_ROLLBACK_BY:
                self._log(command, LogLevel.INFO, f"no automatic rollback: {decision.why}")
            return
        self._act(command, facts=facts, decision=decision)

    def _act(self, command: Command, *, facts: VersionFacts, decision: Decision) -> None:
        stack_id, label = command.stack_id, facts.version
        if decision.action is Action.REPORT_FAILURE:
            data: dict[str, Any] = (
                {"from": facts.rolled_back_from, "to": facts.rolled_back_to, "target": label}
                if facts.created_by == AUTO_ROLLBACK_BY
                else {"from": label, "to": None}
            )
            rollback_failed(self._db, stack_id, version=label, why=decision.why, data=data)
            self._log(command, LogLevel.ERROR, f"automatic rollback failed: {decision.why}")
            return
        assert decision.target is not None
        try:
            queued = auto_rollback(
                self._db,
                stack_id,
                from_version=label,
                to_version=decision.target,
                why=decision.why,
                root=self._root,
            )
        except Exception as e:  # never into the worker: reported instead
            if not isinstance(e, StackctlError):
                import logging  # here: only a rollback that fails unexpectedly logs

                logger = logging.getLogger(__name__)
                logger.exception("automatic rollback of %s %s", stack_id, label)
            why = f"cannot roll back from {label} to {decision.target}: {e}"
            rollback_failed(
                self._db, stack_id, version=label, why=why, data={"from": label, "to": None}
            )
            self._log(command, LogLevel.ERROR, f"automatic rollback failed: {why}")
            return
        self._log(
            command,
            LogLevel.WARNING,
            f"rolling back from {label} to {decision.target}: {decision.why}"
            f" (as {queued.payload['version']}, command {queued.command_id})",
        )


def _since(command: Command, version: str) -> datetime | None:
    """The start a health follow-up carries for ``version``, if it carries one."""
    watch = command.payload.get("watch")
    if not isinstance(watch, dict) or watch.get("version") != version:
        return None
    try:
        return datetime.fromisoformat(str(watch.get("since")))
    except ValueError:
        return None
