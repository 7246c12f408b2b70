"""The health wait after an apply, and what its outcome records: the reconciler's side of
"is the new version healthy".

``wait`` observes until the stack is healthy, degraded, or its wait is over, saying every
``progress_every`` seconds what it waits for; in the controller (``yield_to_others``) it also
ends as soon as another command waits for a worker, so one slow stack never holds the others.
``healthy`` and ``unhealthy`` record the outcome: a Healthy version is marked so (the automatic
rollback's target), a health change is an event (``StackUnhealthy``, ``StackRecovered``: also
notifications), and a wait cut short gets a follow-up RECONCILE that looks again. It never
plans nor changes the engine; it observes through the ``observe`` it is given.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from controller.backends.docker.health import assess_health
from controller.backends.interface import Since
from controller.db import Database
from controller.delivery.rollbacks.watch import Watch
from controller.desired import DesiredStack
from controller.models import (
    Command,
    CommandType,
    Event,
    HealthStatus,
    LogLevel,
    Stack,
    StackVersion,
)
from controller.reconcile.turns import others_wait

_UNHEALTHY = (HealthStatus.DEGRADED, HealthStatus.PROGRESSING, HealthStatus.MISSING)


class HealthWait:
    def __init__(
        self,
        db: Database,
        *,
        observe: Callable[..., Any],
        log: Callable[..., Any],
        yield_to_others: bool,
        worker_limit: int,
        progress_every: float,
        follow_up_after: float,
        assess: Callable[[DesiredStack, Any], tuple[HealthStatus, str]] = assess_health,
    ) -> None:
        """``observe``: the stack as it is now (the reconciler's observation; called with
        ``since=`` too when a wait is given one: ``Backend.observe_stack``); ``assess``: its
        health (the stack's backend's, ``Backend.health``); ``log``: the command's log
        (``Reconciler.log``)."""
        self._assess = assess
        self._db = db
        self._observe = observe
        self._log = log
        self._yield = yield_to_others
        self._worker_limit = worker_limit
        self._progress_every = progress_every
        self._follow_up_after = follow_up_after

    def wait(
        self,
        command: Command,
        desired: DesiredStack,
        *,
        check: Callable[[], None],
        wait: float,
        timeout: float,
        since: Since | None = None,
    ) -> tuple[Any, float | None]:
        """Observe until the stack is healthy, degraded, or ``wait`` seconds have passed,
        saying every ``progress_every`` seconds what it waits for. An unchanged stack is
        observed once (``wait`` 0): a resync never sits waiting on a stack that is not
        changing, unless the automatic rollback watches it (``rollback_watch``). With
        ``yield_to_others`` the wait also ends when other commands wait for a worker (then
        the seconds waited are returned, else ``None``): one slow stack never holds the
        others. ``since``: the plan carried out and the observation it was made on: a look
        after it may take from it what the plan did not change, and the first look after an
        in-sync plan (nothing was done) is that observation, moments old."""
        first = since.observed if since is not None and since.plan.in_sync else None
        started = time.monotonic()
        deadline = started + wait
        said = asked = started
        while True:
            check()
            snapshot, first = first if first is not None else self._look(desired, since), None
            health, why = self._assess(desired, snapshot)
            if health in (HealthStatus.HEALTHY, HealthStatus.DEGRADED):
                return snapshot, None
            now = time.monotonic()
            if now >= deadline:
                return snapshot, None
            if self._yield and now - asked >= 1.0:
                asked = now
                if self._others_wait(command):
                    return snapshot, now - started
            if now - said >= self._progress_every:
                said = now
                self._log(
                    command,
                    LogLevel.INFO,
                    f"waiting for {desired.name} to be healthy: {why}"
                    f" ({now - started:.0f}s of {timeout:.0f}s)",
                )
            time.sleep(0.2)

    def _look(self, desired: DesiredStack, since: Since | None) -> Any:
        return self._observe(desired) if since is None else self._observe(desired, since=since)

    def _others_wait(self, command: Command) -> bool:
        """A command is due and cannot start while this one holds its worker: a newer one of
        this stack (this one ends DONE, so it runs next), or any when every worker is busy."""
        return others_wait(self._db, command, worker_limit=self._worker_limit, same_stack=True)

    def healthy(self, stack: Stack, *, version: StackVersion) -> None:
        """Applied and Healthy: the version is marked so (the automatic rollback goes back to
        the newest such version); a stack that was not Healthy says it recovered."""
        assert version.version is not None
        if version.healthy_at is None or stack.health_status is not HealthStatus.HEALTHY:
            self._db.stack_versions.mark_healthy(
                stack.stack_id, version.version, at=self._db.clock()
            )
        if stack.applied_version is not None and stack.health_status in _UNHEALTHY:
            self._db.events.add(
                Event(
                    stack_id=stack.stack_id,
                    level=LogLevel.INFO,
                    reason="StackRecovered",
                    message=f"{stack.stack_id} is Healthy again at {version.version}"
                    f" (was {stack.health_status})",
                    data={"version": version.version, "before": str(stack.health_status)},
                )
            )

    def unhealthy(
        self,
        command: Command,
        *,
        before: HealthStatus,
        health: HealthStatus,
        why: str,
        cut_short: float | None,
        timeout: float,
        watch: Watch | None,
    ) -> None:
        """The version is applied but the stack is not healthy: said in the command's log and,
        when the stack's health changes to it, as an event (not at every resync). A wait cut
        short for other work gets a follow-up RECONCILE that looks at the health again (and
        carries the automatic rollback's watch, so that its timeout counts from the apply)."""
        if cut_short is None:
            self._log(
                command,
                LogLevel.WARNING,
                f"{command.stack_id} applied but {health} after {timeout:.0f}s: {why}",
            )
        else:
            watching = {} if watch is None else {"watch": watch.follow_up()}
            follow_up, _ = self._db.commands.enqueue_unless_pending(
                Command(
                    stack_id=command.stack_id,
                    type=CommandType.RECONCILE,
                    payload={"reason": "health follow-up", **watching},
                    not_before=self._db.clock() + timedelta(seconds=self._follow_up_after),
                )
            )
            self._log(
                command,
                LogLevel.INFO,
                f"{command.stack_id} applied, still {health} after {cut_short:.0f}s ({why});"
                " other commands wait for a worker, so the wait ends here; command"
                f" {follow_up.command_id} looks again",
            )
        if before is not health:
            self._db.events.add(
                Event(
                    stack_id=command.stack_id,
                    level=LogLevel.WARNING,
                    reason="StackUnhealthy",
                    message=f"{command.stack_id} is {health}: {why}",
                )
            )
