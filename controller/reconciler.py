"""The worker: one command's life, from claim to outcome.

controller-runtime's shape: the reconciler receives a stack id, re-reads the desired version
from the store and observes the engine every time, never trusting what the command said about
the past (level-triggered: an APPLY converges to the stack's *current* version when it runs).
Retry-or-fail is decided in one place, ``_finish``: ``TransientError`` goes back to the queue
with exponential backoff (1 s doubling to 5 min, jittered) until ``max_failures`` attempts have
failed, then the command ends FAILED with the last reason; anything else ends FAILED at once.
Every step writes a command log line with its reason and duration.

Health, decided as Argo CD does: when the plan was carried out but the stack is not healthy
within ``wait_timeout``, the command is DONE (the version *is* applied) and the stack is marked
``Degraded`` or ``Progressing`` with the reason and a ``StackUnhealthy`` event; the next resync
or edit looks again. Retrying the apply would only hold a worker (and every stack queued behind
it) for another health wait. In the controller the wait also ends as soon as another command
waits for a worker (a follow-up RECONCILE looks at the health again ``follow_up_after`` seconds
later), so one slow stack never holds the others. A command asked to stop (``stackctl
cancel``, or a DELETE of its stack) ends CANCELLED at the next step boundary or wait tick.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from controller.db import Database
from controller.errors import ConflictError, PermanentError, StackctlError, TransientError
from controller.executor import ExecutionContext, Executor
from controller.health import assess_health
from controller.models import (
    Command,
    CommandStatus,
    CommandType,
    Event,
    HealthStatus,
    LogLevel,
    SyncStatus,
    VersionStatus,
)
from controller.models.observed import Snapshot
from controller.planner import (
    Plan,
    Step,
    StepKind,
    dependency_levels,
    image_ref,
    plan,
    teardown,
)
from controller.runtime import Engine
from controller.runtime.container_spec import unsupported
from controller.source import DesiredStack
from controller.versions import load_desired, version_root

MAX_BACKOFF = 300.0
CANCEL_POLL = 0.5  # seconds between a running command's looks for a cancel request
_PY_LEVELS = {
    LogLevel.DEBUG: logging.DEBUG,
    LogLevel.INFO: logging.INFO,
    LogLevel.WARNING: logging.WARNING,
    LogLevel.ERROR: logging.ERROR,
}


def backoff_delay(attempts: int, *, rng: random.Random | None = None) -> float:
    """1 s doubling per failed attempt, capped at 5 min, with +-20 % jitter."""
    base = min(MAX_BACKOFF, 2.0 ** max(attempts, 0))
    return base * (rng or random).uniform(0.8, 1.2)


@dataclass(frozen=True)
class ReconcilerOptions:
    root: Path = Path("manifests")  # for versions recorded without a root
    files_dir: Path = Path("storage/files")
    lease_seconds: float = 30.0
    wait_timeout: float = 120.0  # depends_on waits and the final health wait
    parallelism: int = 4
    worker_limit: int = 1  # commands running at once across all workers
    max_failures: int = 5  # failed attempts (transient errors) before a command FAILS
    progress_every: float = 10.0  # seconds between "still waiting" log lines
    # The controller's workers end a health wait early when other work waits for a worker
    # (a follow-up RECONCILE looks again); the CLI, converging its own stacks, waits it out.
    yield_health_wait: bool = False
    follow_up_after: float = 10.0  # seconds before that follow-up RECONCILE


@dataclass(frozen=True)
class Outcome:
    command: Command
    plan: Plan | None = None
    error: str | None = None


class LeaseLost(StackctlError):
    """Another worker took the command back: stop without recording anything more."""


class Interrupted(StackctlError):
    """The controller is stopping: abandon the command at a step boundary (it is requeued)."""


class Cancelled(StackctlError):
    """Someone asked the command to stop (``stackctl cancel``, a DELETE of its stack)."""


Printer = Callable[[str], None]


class Reconciler:
    def __init__(
        self,
        db: Database,
        engine: Engine,
        *,
        options: ReconcilerOptions,
        worker_id: str,
        echo: Printer | None = None,
        logger: logging.Logger | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        """``stop``: when set, the command being run is abandoned at the next step boundary
        and goes back to the queue (the controller is shutting down)."""
        self._db = db
        self._engine = engine
        self._options = options
        self._worker_id = worker_id
        self._echo = echo or (lambda line: None)  # for people at a terminal
        self._logger = logger  # for the daemon's log, with levels
        self._stop = stop or threading.Event()

    def run_next(self) -> Outcome | None:
        """Claim one runnable command and handle it; ``None`` when there is none."""
        command = self._db.commands.claim(
            worker_id=self._worker_id,
            lease_seconds=self._options.lease_seconds,
            limit=self._options.worker_limit,
        )
        return None if command is None else self.handle(command)

    def handle(self, command: Command) -> Outcome:
        assert command.command_id is not None
        self._log(
            command,
            LogLevel.INFO,
            f"{command.type} {command.stack_id} started (attempt {command.attempts + 1})",
        )
        keeper = _LeaseKeeper(
            self._db, command, self._worker_id, self._options.lease_seconds, stop=self._stop
        )
        started = time.monotonic()
        result: Plan | None = None
        error: BaseException | None = None
        with keeper:
            try:
                match command.type:
                    case CommandType.DELETE_STACK:
                        result = self._delete(command, keeper)
                    case _:
                        result = self._converge(command, keeper)
            except LeaseLost:
                return Outcome(command, None, "lease lost")
            except Interrupted as e:
                requeued = self._db.commands.retry_later(
                    command.command_id,
                    delay=0,
                    error=str(e),
                    worker_id=self._worker_id,
                    failed=False,
                )
                return Outcome(requeued, None, str(e))
            except Cancelled as e:
                self._log(command, LogLevel.WARNING, f"{command.type} cancelled: {e}")
                try:
                    cancelled = self._db.commands.cancel_running(
                        command.command_id, worker_id=self._worker_id
                    )
                except ConflictError:
                    return Outcome(command, None, "lease lost")
                return Outcome(cancelled, None, str(e))
            except Exception as e:  # every failure is recorded; none escapes the worker
                error = e
        return self._finish(command, result, error, time.monotonic() - started)

    # -- the two kinds of work ---------------------------------------------------------------

    def _converge(self, command: Command, keeper: _LeaseKeeper) -> Plan | None:
        stack = self._db.stacks.require(command.stack_id)
        if stack.current_version is None:
            raise PermanentError(f"stack {stack.stack_id} has no version to apply")
        version = self._db.stack_versions.require(stack.stack_id, stack.current_version)
        desired = load_desired(self._db, version)
        if stack.suspended or desired.suspend:
            self._log(command, LogLevel.INFO, "suspended: nothing changes at runtime")
            self._db.stacks.update(stack.stack_id, health_status=HealthStatus.SUSPENDED)
            return None
        previous = None  # what the engine should be running: it makes reasons precise
        if stack.applied_version == version.version:
            previous = desired
        elif stack.applied_version:
            applied = self._db.stack_versions.get(stack.stack_id, stack.applied_version)
            previous = load_desired(self._db, applied) if applied else None
        root = version_root(version, self._options.root)
        the_plan = plan(desired, self._observe(desired), previous=previous, pull_always=True)
        if the_plan.refresh_steps and not the_plan.problems:
            # pull_policy always: pull first, then plan what the pulled images change.
            refresh = Plan(desired.name, the_plan.refresh_steps)
            self._execute(command, keeper, desired, version.version, refresh, root)
            the_plan = plan(desired, self._observe(desired), previous=previous)
        problems = [*the_plan.problems, *unsupported(desired)]
        if problems:
            raise PermanentError("; ".join(problems))
        if the_plan.in_sync:
            self._log(
                command, LogLevel.INFO, f"{desired.name} {version.version}: in sync, nothing to do"
            )
        else:
            self._log(
                command,
                LogLevel.INFO,
                f"{desired.name} {version.version}: {len(the_plan.changes)} change(s)",
            )
            self._db.stack_versions.set_status(
                stack.stack_id, version.version, VersionStatus.APPLYING
            )
            self._execute(command, keeper, desired, version.version, the_plan, root)
        final, cut_short = self._await_health(
            command, desired, keeper, waited=not the_plan.in_sync
        )
        health, why = assess_health(desired, final)
        left = plan(desired, final)
        runtime = {
            name: [c.id for c in final.containers_of(name)] for name in desired.compose.services
        }
        if left.changes:
            raise TransientError("not converged: " + "; ".join(s.describe() for s in left.changes))
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
        if health is not HealthStatus.HEALTHY:
            self._unhealthy(command, stack.health_status, health, why, cut_short=cut_short)
        return the_plan

    def _delete(self, command: Command, keeper: _LeaseKeeper) -> Plan:
        stack_id = command.stack_id
        snapshot = self._engine.observe(stack_id)
        order: list[list[str]] = []
        stack = self._db.stacks.get(stack_id)
        if stack and stack.applied_version:
            applied = self._db.stack_versions.get(stack_id, stack.applied_version)
            if applied:
                order = dependency_levels(load_desired(self._db, applied).compose.services)
        the_plan = teardown(
            snapshot, order=order, remove_volumes=bool(command.payload.get("remove_volumes"))
        )
        for step in the_plan.steps:
            keeper.check()
            started = time.monotonic()
            try:
                _TEARDOWN[step.kind](self._engine, step)
            except BaseException as e:
                self._report(command, step, time.monotonic() - started, e)
                raise
            self._report(command, step, time.monotonic() - started, None)
        assert command.command_id is not None
        with self._db.transaction():
            # Deleted is what is wanted now, unless the stack was asked back meanwhile (its
            # manifest restored: an APPLY queued after this DELETE, which must find a version).
            back = self._db.commands.pending_after(
                stack_id, command.command_id, CommandType.APPLY_STACK_VERSION
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

    def _observe(self, desired: DesiredStack) -> Snapshot:
        refs = sorted({image_ref(desired.name, n, s) for n, s in desired.compose.services.items()})
        return self._engine.observe(desired.name, images=refs)

    def _execute(
        self,
        command: Command,
        keeper: _LeaseKeeper,
        desired: DesiredStack,
        version: str | None,
        the_plan: Plan,
        root: Path,
    ) -> None:
        ctx = ExecutionContext(
            desired=desired,
            version=version,
            root=root,
            files_dir=self._options.files_dir,
            wait_timeout=self._options.wait_timeout,
            parallelism=self._options.parallelism,
        )
        Executor(
            self._engine,
            ctx,
            on_step=lambda step, secs, err: self._report(command, step, secs, err),
            still_ours=keeper.check,
            on_progress=lambda message: self.progress(command, message),
            progress_every=self._options.progress_every,
        ).run(the_plan)

    def _await_health(
        self, command: Command, desired: DesiredStack, keeper: _LeaseKeeper, *, waited: bool
    ) -> tuple[Snapshot, float | None]:
        """Observe until the stack is healthy, degraded, or the wait times out, saying every
        ``progress_every`` seconds what it waits for. An unchanged stack is observed once: a
        resync never sits waiting on a stack that is not changing. With ``yield_health_wait``
        the wait also ends when other commands wait for a worker (then the seconds waited are
        returned, else ``None``): one slow stack never holds the others."""
        started = time.monotonic()
        deadline = started + (self._options.wait_timeout if waited else 0)
        said = asked = started
        while True:
            keeper.check()
            snapshot = self._observe(desired)
            health, why = assess_health(desired, snapshot)
            if health in (HealthStatus.HEALTHY, HealthStatus.DEGRADED):
                return snapshot, None
            now = time.monotonic()
            if now >= deadline:
                return snapshot, None
            if self._options.yield_health_wait and now - asked >= 1.0:
                asked = now
                if self._others_wait(command):
                    return snapshot, now - started
            if now - said >= self._options.progress_every:
                said = now
                self.progress(
                    command,
                    f"waiting for {desired.name} to be healthy: {why}"
                    f" ({now - started:.0f}s of {self._options.wait_timeout:.0f}s)",
                )
            time.sleep(0.2)

    def _others_wait(self, command: Command) -> bool:
        """A command is due and cannot start while this one holds its worker: a newer one of
        this stack, or any when every worker is busy."""
        due = self._db.commands.get_next_pending()
        if due is None:
            return False
        if due.stack_id == command.stack_id:
            return True
        running = self._db.commands.count_by_status().get(CommandStatus.RUNNING, 0)
        return running >= self._options.worker_limit

    def progress(self, command: Command, message: str) -> None:
        """A "still waiting" line: logged, so people following the command see it move."""
        self._log(command, LogLevel.INFO, message)

    def _unhealthy(
        self,
        command: Command,
        before: HealthStatus,
        health: HealthStatus,
        why: str,
        *,
        cut_short: float | None,
    ) -> None:
        """The version is applied but the stack is not healthy: said in the command's log and,
        when the stack's health changes to it, as an event (not at every resync). A wait cut
        short for other work gets a follow-up RECONCILE that looks at the health again."""
        if cut_short is None:
            self._log(
                command,
                LogLevel.WARNING,
                f"{command.stack_id} applied but {health} after"
                f" {self._options.wait_timeout:.0f}s: {why}",
            )
        else:
            follow_up, _ = self._db.commands.enqueue_unless_pending(
                Command(
                    stack_id=command.stack_id,
                    type=CommandType.RECONCILE,
                    payload={"reason": "health follow-up"},
                    not_before=self._db.clock()
                    + timedelta(seconds=self._options.follow_up_after),
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

    def _report(
        self, command: Command, step: Step, seconds: float, error: BaseException | None
    ) -> None:
        assert command.command_id is not None
        data = {
            "kind": step.kind.value,
            "target": step.target,
            "reason": step.reason,
            "service": step.service,
            "duration_ms": round(seconds * 1000),
        }
        if error is None:
            self._log(command, LogLevel.INFO, f"{step.describe()} ({seconds:.2f}s)", data)
        else:
            self._log(
                command,
                LogLevel.ERROR,
                f"{step.describe()} failed after {seconds:.2f}s: {error}",
                {**data, "error": str(error)},
            )

    def _log(
        self, command: Command, level: LogLevel, message: str, data: dict | None = None
    ) -> None:
        assert command.command_id is not None
        self._db.command_logs.add_log(command.command_id, level, message, data)
        self._echo(f"[{command.stack_id}] {message}")
        if self._logger is not None:
            self._logger.log(_PY_LEVELS[level], "[%s] %s", command.stack_id, message)

    def _finish(
        self, command: Command, result: Plan | None, error: BaseException | None, seconds: float
    ) -> Outcome:
        assert command.command_id is not None
        cid, worker = command.command_id, self._worker_id
        try:
            match error:
                case None:
                    self._log(
                        command,
                        LogLevel.INFO,
                        f"{command.type} {command.stack_id} done in {seconds:.2f}s",
                    )
                    done = self._db.commands.complete(cid, worker_id=worker)
                    return Outcome(done, result)
                case TransientError() if command.failures + 1 >= self._options.max_failures:
                    message = f"gave up after {command.failures + 1} failed attempts: {error}"
                    self._log(command, LogLevel.ERROR, f"{command.type} failed: {message}")
                    self._note_error(command, error, final=True)
                    failed = self._db.commands.fail(cid, error=message, worker_id=worker)
                    return Outcome(failed, result, message)
                case TransientError():
                    delay = backoff_delay(command.failures)
                    self._note_error(command, error, final=False)
                    retried = self._db.commands.retry_later(
                        cid, delay=delay, error=str(error), worker_id=worker
                    )
                    self._echo(f"[{command.stack_id}] will retry in {delay:.1f}s: {error}")
                    if self._logger is not None:
                        self._logger.warning(
                            "[%s] will retry in %.1fs: %s", command.stack_id, delay, error
                        )
                    return Outcome(retried, result, str(error))
                case _:
                    message = (
                        str(error)
                        if isinstance(error, StackctlError)
                        else (f"internal error: {type(error).__name__}: {error}")
                    )
                    self._log(command, LogLevel.ERROR, f"{command.type} failed: {message}")
                    self._note_error(command, error, final=True)
                    failed = self._db.commands.fail(cid, error=message, worker_id=worker)
                    return Outcome(failed, result, message)
        except ConflictError:
            return Outcome(command, result, "lease lost before the outcome was recorded")

    def _note_error(self, command: Command, error: BaseException, *, final: bool) -> None:
        """The stack says what went wrong; a version whose apply ended in failure says so."""
        stack = self._db.stacks.get(command.stack_id)
        if stack is None:
            return
        sync = (
            SyncStatus.OUT_OF_SYNC
            if stack.applied_version != stack.current_version
            else stack.sync_status
        )
        self._db.stacks.update(command.stack_id, last_error=str(error), sync_status=sync)
        version = (
            self._db.stack_versions.get(stack.stack_id, stack.current_version)
            if final and stack.current_version
            else None
        )
        if version is not None and version.status is VersionStatus.APPLYING:
            self._db.stack_versions.set_status(
                stack.stack_id, version.version or "", VersionStatus.FAILED
            )


_TEARDOWN: dict[StepKind, Callable[[Engine, Step], None]] = {
    StepKind.REMOVE: lambda engine, step: engine.stop_and_remove(step.container_id or step.target),
    StepKind.REMOVE_NETWORK: lambda engine, step: engine.remove_network(step.target),
    StepKind.REMOVE_VOLUME: lambda engine, step: engine.remove_volume(step.target),
}


class _LeaseKeeper:
    """Renews the command's lease in the background; ``check()`` raises ``LeaseLost`` once
    another worker has taken the command back."""

    def __init__(
        self, db: Database, command: Command, worker_id: str, lease: float, *, stop: threading.Event
    ) -> None:
        self._db, self._command, self._worker = db, command, worker_id
        self._stopping = stop
        self._lease = lease
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._asked_at = 0.0  # when the database was last asked about a cancel request
        self._thread = threading.Thread(
            target=self._renew, daemon=True, name=f"lease-{command.command_id}"
        )

    def _renew(self) -> None:
        assert self._command.command_id is not None
        while not self._stop.wait(self._lease / 3):
            try:
                self._db.commands.renew_lease(
                    self._command.command_id, worker_id=self._worker, lease_seconds=self._lease
                )
            except ConflictError:
                self._lost.set()
                return
            except StackctlError:
                continue  # a busy database: try again at the next tick

    def check(self) -> None:
        if self._stopping.is_set():
            raise Interrupted("the controller is stopping; the command goes back to the queue")
        if self._lost.is_set():
            raise LeaseLost(f"command {self._command.command_id} was taken by another worker")
        now = time.monotonic()
        if now - self._asked_at >= CANCEL_POLL:
            self._asked_at = now
            assert self._command.command_id is not None
            try:
                reason = self._db.commands.cancel_requested(self._command.command_id)
            except StackctlError:
                reason = None  # a busy database: ask again at the next check
            if reason:
                raise Cancelled(reason)

    def __enter__(self) -> _LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
