"""The reconciler: what one command does to its stack, from plan to recorded status.

controller-runtime's shape: the reconciler receives a claimed command (the ``worker`` owns the
queue: claim, lease, retry or fail), re-reads the stack's desired version from the store and
observes the engine every time, never trusting what the command said about the past
(level-triggered: an APPLY converges to the stack's *current* version when it runs). It
returns the plan it carried out or raises; it never touches the queue. Every step writes a
command log line with its reason and duration; a DELETE is a plan like any other, carried out by
the executor.

Health, decided as Argo CD does: when the plan was carried out but the stack is not healthy
within ``wait_timeout``, the command is DONE (the version *is* applied) and the stack is marked
``Degraded`` or ``Progressing`` with the reason and a ``StackUnhealthy`` event; the next resync
or edit looks again. Retrying the apply would only hold a worker (and every stack queued behind
it) for another health wait. In the controller the wait also ends as soon as another command
waits for a worker (a follow-up RECONCILE looks at the health again ``follow_up_after`` seconds
later), and a ``depends_on`` wait puts its command back in the queue (``reconcile.turns``), so
one slow stack never holds the others. A command asked to stop (``stackctl cancel``, or a
DELETE of its stack) ends CANCELLED at the next step boundary or wait tick.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from controller.backends.engines import Engines
from controller.backends.interface import Backend, Observed, Since
from controller.backends.shared.steps import Plan
from controller.db import Database
from controller.delivery.rollbacks.watch import RollbackWatch, Watch
from controller.desired import DesiredStack
from controller.models import (
    Command,
    CommandType,
    HealthStatus,
    LogLevel,
    Stack,
    StackVersion,
    SyncStatus,
    VersionStatus,
)
from controller.models.errors import PermanentError, StackctlError, TransientError
from controller.reconcile.engine_steps import EngineSteps
from controller.reconcile.health_wait import HealthWait
from controller.reconcile.reconciler_options import ReconcilerOptions
from controller.reconcile.removals import Removals, approve_move
from controller.reconcile.turns import Turn
from controller.sources.versions import load_desired, version_base

if TYPE_CHECKING:  # a logger is given by the daemon, which has loaded logging
    import logging

MAX_BACKOFF = 300.0
CANCEL_POLL = 0.5  # seconds between a running command's looks for a cancel request
Printer = Callable[[str], None]


class Reconciler:
    def __init__(
        self,
        db: Database,
        engine: Backend | Engines,
        *,
        options: ReconcilerOptions,
        echo: Printer | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self._db = db
        self._engines = Engines.of(engine)  # a stack runs on the one its target names
        self._options = options
        self._steps = EngineSteps(
            db,
            files_dir=options.files_dir,
            parallelism=options.parallelism,
            progress_every=options.progress_every,
            timeout=self._timeout,
            echo=echo,
            logger=logger,
        )
        self._removals = Removals(db, self._engines, self._steps, root=options.root)
        self._watch = RollbackWatch(db, root=options.root, log=self.log)
        self._health = HealthWait(
            db,
            observe=lambda desired, since=None: self._engines.get(desired.engine).observe_stack(
                desired, by_name=False, since=since
            ),
            assess=lambda desired, observed: self._engines.get(desired.engine).health(
                desired, observed
            ),
            log=self.log,
            yield_to_others=options.yield_health_wait,
            worker_limit=options.worker_limit,
            progress_every=options.progress_every,
            follow_up_after=options.follow_up_after,
        )

    def reconcile(self, command: Command, *, check: Callable[[], None]) -> Plan | None:
        """Carry ``command`` out on its stack; returns the plan carried out. ``check`` is
        called at every step boundary and wait tick: it raises to stop the command (lease
        lost, controller stopping, cancel requested)."""
        match command.type:
            case CommandType.DELETE_STACK:
                return self._removals.delete(command, check)
            case _:
                return self._converge(command, check)

    # -- the two kinds of work ---------------------------------------------------------------

    def _converge(self, command: Command, check: Callable[[], None]) -> Plan | None:
        stack = self._db.stacks.require(command.stack_id)
        if stack.current_version is None:
            raise PermanentError(f"stack {stack.stack_id} has no version to apply")
        version = self._db.stack_versions.require(stack.stack_id, stack.current_version)
        desired = load_desired(self._db, version)
        if stack.suspended or desired.suspend:
            self._suspended(command, stack, desired=desired, version=version)
            return None
        the_plan, previous, observed = self._plan(
            command, stack, check=check, desired=desired, version=version
        )
        since = Since(observed, the_plan)
        self._apply(command, since, previous, check=check, desired=desired, version=version)
        self._settle(command, stack, since, check=check, desired=desired, version=version)
        return the_plan

    def _settle(
        self,
        command: Command,
        stack: Stack,
        since: Since,
        *,
        check: Callable[[], None],
        desired: DesiredStack,
        version: StackVersion,
    ) -> None:
        """After the apply (``since``: the plan carried out and the observation it was made
        on): wait for health (unless the backend's apply did, as Swarm's does), check nothing
        is left to change, and record the version applied with its health."""
        backend = self._engines.get(desired.engine)
        timeout = self._timeout(desired)
        changed = not since.plan.in_sync
        watch = None
        if backend.settles_on_apply:
            final, cut_short = backend.observe_stack(desired, by_name=False), None
        else:
            watch = self._watch.begin(
                command, version=version, desired=desired, changed=changed, timeout=timeout
            )
            wait = watch.wait if watch is not None else timeout if changed else 0.0
            final, cut_short = self._health.wait(
                command, desired, check=check, wait=wait, timeout=timeout, since=since
            )
        left = backend.plan(desired, final, previous=desired)
        if left.changes:
            raise TransientError("not converged: " + "; ".join(s.describe() for s in left.changes))
        health, why = backend.health(desired, final)
        self._record_applied(
            command,
            stack,
            desired=desired,
            version=version,
            health=(health, why),
            runtime=backend.runtime(desired, final),
            cut_short=cut_short,
            watch=watch,
        )
        if watch is not None and health is not HealthStatus.HEALTHY and cut_short is None:
            self._watch.judge_health(
                command, watch=watch, version=version, desired=desired, health=health, why=why
            )

    def _timeout(self, desired: DesiredStack | None) -> float:
        """The stack's timeout (``spec.timeout``), else the controller's ``wait_timeout``: the
        health wait and the depends_on waits."""
        if desired is not None and desired.timeout is not None:
            return desired.timeout
        return self._options.wait_timeout

    def _suspended(
        self, command: Command, stack: Stack, *, desired: DesiredStack, version: StackVersion
    ) -> None:
        """Nothing changes at runtime. The plan is made (never carried out) to say in the log
        what is held back, and the row keeps what was observed (a stack missing a container
        OutOfSync; an engine that does not answer, Unknown), though the stack reads Suspended
        while it is suspended (``controller.db.suspension``): the resync leaves it alone."""
        try:
            previous = self._previous(stack, desired=desired, version=version.version)
            backend = self._engines.get(desired.engine)
            the_plan = backend.plan(desired, backend.observe_stack(desired), previous=previous)
            sync = SyncStatus.SYNCED if the_plan.in_sync else SyncStatus.OUT_OF_SYNC
            held = len(the_plan.changes)
            differences = "" if the_plan.in_sync else f" ({held} changes held back)"
        except TransientError as e:
            sync, differences = SyncStatus.UNKNOWN, f" (the engine could not be observed: {e})"
        self.log(command, LogLevel.INFO, f"suspended: nothing changes at runtime{differences}")
        self._db.stacks.update(
            stack.stack_id, health_status=HealthStatus.SUSPENDED, sync_status=sync
        )

    def _plan(
        self,
        command: Command,
        stack: Stack,
        *,
        check: Callable[[], None],
        desired: DesiredStack,
        version: StackVersion,
    ) -> tuple[Plan, DesiredStack | None, Observed]:
        """The plan to carry out, what it was planned against, and the observation it was made
        on. What the pull policies ask
        for at every apply (the pulls of ``always`` and of due ``daily``/``weekly``/``every_``
        services, the builds of ``build`` ones) is carried out first, then the stack is planned
        again on what the pulled or built images changed. Raises when the plan cannot run; a
        move (approved) leaves the old engine only once the new one can run the stack."""
        previous = self._previous(stack, desired=desired, version=version.version)
        backend = self._engines.get(desired.engine)
        moving_from = None
        if previous is not None and previous.engine != desired.engine:
            approve_move(command, previous, to=desired.engine)  # or refused, first
            moving_from, previous = previous, None  # nothing of it on the new engine yet
        adopt = bool(command.payload.get("adopt"))  # `stackctl apply --adopt`
        now = self._db.clock()
        observed = self._observe(desired)
        the_plan = backend.plan(
            desired, observed, previous=previous, pull_always=True, adopt=adopt, now=now
        )
        if the_plan.refresh_steps and not the_plan.problems:
            self._refresh(command, the_plan, check=check, desired=desired, version=version)
            observed = self._observe(desired)
            the_plan = backend.plan(desired, observed, previous=previous, adopt=adopt)
        problems = [*the_plan.problems, *backend.problems(desired)]
        if problems:
            raise PermanentError("; ".join(problems))
        if moving_from is not None:  # the new engine can run it: leave the old one
            self._removals.move_away(command, moving_from, to=desired.engine, check=check)
        return the_plan, previous, observed

    def _refresh(
        self,
        command: Command,
        the_plan: Plan,
        *,
        check: Callable[[], None],
        desired: DesiredStack,
        version: StackVersion,
    ) -> None:
        """The pulls and builds the pull policies ask for, before planning again."""
        self._steps.execute(
            command,
            Plan(desired.name, the_plan.refresh_steps),
            check=check,
            desired=desired,
            version=version.version,
            root=version_base(version, self._options.root),
            engine=self._engines.get(desired.engine),
        )

    def _previous(
        self, stack: Stack, *, desired: DesiredStack, version: str
    ) -> DesiredStack | None:
        """What the engine should be running (the applied version): it makes reasons precise."""
        if stack.applied_version == version:
            return desired
        if stack.applied_version:
            applied = self._db.stack_versions.get(stack.stack_id, stack.applied_version)
            return load_desired(self._db, applied) if applied else None
        return None

    def _apply(
        self,
        command: Command,
        since: Since,
        previous: DesiredStack | None,
        *,
        check: Callable[[], None],
        desired: DesiredStack,
        version: StackVersion,
    ) -> None:
        """Carry the plan out (the version is APPLYING meanwhile), or say there is nothing to do
        (``since``: the plan and the observation it was made on)."""
        the_plan = since.plan
        self._announce(command, the_plan, desired=desired, version=version)
        if the_plan.in_sync:
            return
        root = version_base(version, self._options.root)
        self._steps.execute(
            command,
            the_plan,
            check=check,
            desired=desired,
            version=version.version,
            root=root,
            engine=self._engines.get(desired.engine),
            previous=previous,
            observed=since.observed,
            turn=Turn(
                self._db,
                command,
                give_way=self._options.yield_health_wait,
                worker_limit=self._options.worker_limit,
            ),
        )

    def _announce(
        self, command: Command, the_plan: Plan, *, desired: DesiredStack, version: StackVersion
    ) -> None:
        """Say what the plan changes; a version about to change something is APPLYING."""
        if the_plan.in_sync:
            self.log(
                command, LogLevel.INFO, f"{desired.name} {version.version}: in sync, nothing to do"
            )
            return
        self.log(
            command,
            LogLevel.INFO,
            f"{desired.name} {version.version}: {len(the_plan.changes)} change(s)",
        )
        self._db.stack_versions.set_status(
            version.stack_id, version.version, VersionStatus.APPLYING
        )

    def _record_applied(
        self,
        command: Command,
        stack: Stack,
        *,
        desired: DesiredStack,
        version: StackVersion,
        health: tuple[HealthStatus, str],
        runtime: dict[str, list[str]],
        cut_short: float | None,
        watch: Watch | None,
    ) -> None:
        """The version is applied (the caller found nothing left to change): recorded with what
        runs it (``runtime``: container or task container ids by service), and the stack's
        health with it (and its reason). A Healthy version is marked so (the automatic rollback
        goes back to the newest such version), and a stack that was Degraded, Progressing or
        Missing and is Healthy now says so (``StackRecovered``)."""
        health, why = health
        self._db.stack_versions.set_status(
            stack.stack_id, version.version, VersionStatus.APPLIED, runtime=runtime
        )
        self._db.stacks.update(
            stack.stack_id,
            applied_version=version.version,
            sync_status=SyncStatus.SYNCED,
            health_status=health,
            last_error=why or None,
        )
        if health is HealthStatus.HEALTHY:
            self._health.healthy(stack, version=version)
        else:
            self._health.unhealthy(
                command,
                before=stack.health_status,
                health=health,
                why=why,
                cut_short=cut_short,
                timeout=self._timeout(desired),
                watch=watch,
            )

    def _observe(self, desired: DesiredStack, *, by_name: bool = True) -> Observed:
        return self._engines.get(desired.engine).observe_stack(desired, by_name=by_name)

    def log(
        self, command: Command, level: LogLevel, message: str, data: dict | None = None
    ) -> None:
        """A command log line, also echoed to the terminal and the daemon's log."""
        self._steps.log(command, level, message, data)

    def progress(self, command: Command, message: str) -> None:
        self._steps.progress(command, message)

    def note_error(self, command: Command, error: BaseException, *, final: bool) -> None:
        """The stack says what went wrong; a version whose apply ended in failure says so."""
        stack = self._db.stacks.get(command.stack_id)
        if stack is None:
            return
        if stack.applied_version != stack.current_version:
            self._db.stacks.update(
                command.stack_id, last_error=str(error), sync_status=SyncStatus.OUT_OF_SYNC
            )
        else:  # the sync status as it was (a suspended stack's reads Suspended: never stored)
            self._db.stacks.update(command.stack_id, last_error=str(error))
        version = (
            self._db.stack_versions.get(stack.stack_id, stack.current_version)
            if final and stack.current_version
            else None
        )
        if version is not None and version.status is VersionStatus.APPLYING:
            self._db.stack_versions.set_status(
                stack.stack_id, version.version or "", VersionStatus.FAILED
            )
        if final and command.type is not CommandType.DELETE_STACK:
            try:
                self._watch.judge_failure(command, error)
            except StackctlError as e:  # the worker records the command's failure regardless
                self.log(command, LogLevel.ERROR, f"automatic rollback not decided: {e}")
