"""The worker: a command's life in the queue, from claim to the queue's next state.

controller-runtime's split: the worker owns the queue side (claim one runnable command, keep
its lease alive while it runs, and turn what happened into the command's next state, in one
``match``), the ``Reconciler`` owns the stack side (plan and carry out one command) and never
touches the queue. The controller's threads (``daemon``) and the command line's in-process runs
(``cli/running``) use this same loop.

The queue transitions, decided in ``_finish``:
- done: DONE;
- ``TransientError``: back to PENDING with exponential backoff (1 s doubling to 5 min,
  jittered), until ``max_failures`` attempts have failed, then FAILED with the last reason;
- anything else: FAILED with its reason (an unexpected exception as "internal error: ...");
- the controller stopping (``Interrupted``): back to PENDING at once, not counted as a failure;
- a wait giving its worker to waiting work (``Yielded``, ``controller.reconcile.turns``): back to
PENDING
  for ``follow_up_after`` seconds, not a failure, when its waits began kept in its payload;
- a cancel request (``Cancelled``): CANCELLED;
- the lease lost (``LeaseLost``): nothing more is recorded (another worker has the command).

With ``chain=True`` (a loop that runs command after command: the controller's threads), a DONE
command is completed and the worker's next command claimed in one transaction
(``complete_and_claim``): one commit instead of two. The command so claimed is the one the next
``run_next()`` runs; the loop calls ``release_claimed()`` when it stops, so that a command claimed
ahead is never left RUNNING.

Every claim carries each engine's ``concurrency`` (``engine_limits``): a slow or unreachable
engine holds at most that many workers, and the queue hands the others commands of the other
engines meanwhile (issue 16).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from controller.backends.docker import Engine
from controller.backends.docker.planner import Plan
from controller.backends.engines import Engines
from controller.db import Database
from controller.delivery.notifications import announcements
from controller.models import Command, LogLevel
from controller.models.errors import (
    Cancelled,
    ConflictError,
    Interrupted,
    LeaseLost,
    StackctlError,
    TransientError,
    Yielded,
)
from controller.reconcile.reconciler import Printer, Reconciler, ReconcilerOptions
from controller.reconcile.turns import payload_with

if TYPE_CHECKING:  # a logger is given by the daemon, which has loaded logging
    import logging

MAX_BACKOFF = 300.0
CANCEL_POLL = 0.5  # seconds between a running command's looks for a cancel request


def engine_limits(engine: Engine | Engines) -> dict[str, int]:
    """The most commands the claim lets run at once on each engine whose ``concurrency`` the
    engines file sets (``local`` included when redefined with one); the others are bounded by
    the workers only, so ``--workers 8`` without an engines file still runs 8 at once."""
    return {
        each.name: each.spec.concurrency
        for each in Engines.of(engine)
        if each.spec.concurrency is not None
    }


def backoff_delay(attempts: int, *, rng: random.Random | None = None) -> float:
    """1 s doubling per failed attempt, capped at 5 min, with +-20 % jitter."""
    base = min(MAX_BACKOFF, 2.0 ** max(attempts, 0))
    return base * (rng or random).uniform(0.8, 1.2)


@dataclass(frozen=True)
class Outcome:
    command: Command
    plan: Plan | None = None
    error: str | None = None


class Worker:
    def __init__(
        self,
        db: Database,
        engine: Engine | Engines,
        *,
        options: ReconcilerOptions,
        worker_id: str,
        echo: Printer | None = None,
        logger: logging.Logger | None = None,
        stop: threading.Event | None = None,
        chain: bool = False,
    ) -> None:
        """``stop``: when set, the command being run is abandoned at the next step boundary
        and goes back to the queue (the controller is shutting down). ``chain``: see above."""
        self._db = db
        self._options = options
        self._worker_id = worker_id
        self._echo = echo or (lambda line: None)
        self._logger = logger
        self._stop = stop or threading.Event()
        self._chain = chain
        self._claimed: Command | None = None  # claimed with the last completion, not started
        self._engine_limits = engine_limits(engine)
        self.reconciler = Reconciler(db, engine, options=options, echo=echo, logger=logger)

    def run_next(self) -> Outcome | None:
        """Claim one runnable command and handle it; ``None`` when there is none."""
        command, self._claimed = self._claimed, None
        if command is not None and self._stop.is_set():
            self._release(command)
            return None
        if command is None:
            command = self._db.commands.claim(
                worker_id=self._worker_id,
                lease_seconds=self._options.lease_seconds,
                limit=self._options.worker_limit,
                engine_limits=self._engine_limits,
            )
        return None if command is None else self.handle(command)

    @property
    def claimed_ahead(self) -> bool:
        """A command was claimed with the last completion (``chain``) and awaits its run."""
        return self._claimed is not None

    def release_claimed(self) -> None:
        """Give back the command claimed ahead (``chain``) if there is one: for a loop that
        stops. A database that fails now leaves it to its lease (``recover_expired``)."""
        command, self._claimed = self._claimed, None
        if command is not None:
            self._release(command)

    def _release(self, command: Command) -> None:
        assert command.command_id is not None
        try:
            self._db.commands.release(command.command_id, worker_id=self._worker_id)
        except StackctlError as e:  # lost meanwhile, or a failing database: the lease decides
            if self._logger is not None:
                self._logger.warning(
                    "[%s] command %s not released: %s", command.stack_id, command.command_id, e
                )

    def handle(self, command: Command) -> Outcome:
        """Run a command this worker has claimed and record its outcome in the queue."""
        assert command.command_id is not None
        with self._db.transaction():
            self.reconciler.log(
                command,
                LogLevel.INFO,
                f"{command.type} {command.stack_id} started (attempt {command.attempts})",
            )
            announcements.started(self._db, command)
        keeper = LeaseKeeper(
            self._db,
            command,
            worker_id=self._worker_id,
            lease=self._options.lease_seconds,
            stop=self._stop,
        )
        started = time.monotonic()
        result: Plan | None = None
        error: BaseException | None = None
        with keeper:
            try:
                result = self.reconciler.reconcile(command, check=keeper.check)
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
            except Yielded as e:
                return self._give_way(command, e)
            except Cancelled as e:
                self.reconciler.log(command, LogLevel.WARNING, f"{command.type} cancelled: {e}")
                try:
                    cancelled = self._db.commands.cancel_running(
                        command.command_id, worker_id=self._worker_id
                    )
                except ConflictError:
                    return Outcome(command, None, "lease lost")
                return Outcome(cancelled, None, str(e))
            except Exception as e:  # every failure is recorded; none escapes the worker
                error = e
        return self._finish(command, result, error=error, seconds=time.monotonic() - started)

    def _give_way(self, command: Command, why: Yielded) -> Outcome:
        """Back to the queue for a while: other commands have the worker meanwhile."""
        assert command.command_id is not None
        delay = self._options.follow_up_after
        note = f"{why}: back in the queue, going on in {delay:.0f}s"
        self._echo(f"[{command.stack_id}] {note}")
        if self._logger is not None:
            self._logger.info("[%s] %s", command.stack_id, note)
        try:
            requeued = self._db.commands.give_way(
                command.command_id,
                delay=delay,
                payload=payload_with(command, why.waits),
                note=note,
                worker_id=self._worker_id,
            )
        except ConflictError:
            return Outcome(command, None, "lease lost")
        return Outcome(requeued, None, str(why))

    def _finish(
        self, command: Command, result: Plan | None, *, error: BaseException | None, seconds: float
    ) -> Outcome:
        assert command.command_id is not None
        cid, worker, say = command.command_id, self._worker_id, self.reconciler.log
        try:
            match error:
                case None:
                    say(
                        command,
                        LogLevel.INFO,
                        f"{command.type} {command.stack_id} done in {seconds:.2f}s",
                    )
                    with self._db.transaction():
                        done = self._complete(cid)
                        announcements.ended(self._db, command, result, error=None)
                    return Outcome(done, result)
                case TransientError() if command.failures + 1 >= self._options.max_failures:
                    message = f"gave up after {command.failures + 1} failed attempts: {error}"
                    return self._fail(command, result, error=error, message=message)
                case TransientError():
                    delay = backoff_delay(command.failures)
                    self.reconciler.note_error(command, error, final=False)
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
                    return self._fail(command, result, error=error, message=message)
        except ConflictError:
            return Outcome(command, result, "lease lost before the outcome was recorded")

    def _fail(
        self, command: Command, result: Plan | None, *, error: BaseException, message: str
    ) -> Outcome:
        """FAILED for good: said in the log, on the stack, and as a notification."""
        assert command.command_id is not None
        self.reconciler.log(command, LogLevel.ERROR, f"{command.type} failed: {message}")
        # Before the command is FAILED, in transactions of its own: a kill in between leaves the
        # command RUNNING, so it runs again and decides again; and an automatic rollback that
        # fails halfway rolls back whole (a transaction joined by the one below would not).
        self.reconciler.note_error(command, error, final=True)
        with self._db.transaction():
            failed = self._db.commands.fail(
                command.command_id, error=message, worker_id=self._worker_id
            )
            announcements.ended(self._db, command, result, error=message)
        return Outcome(failed, result, message)

    def _complete(self, command_id: int) -> Command:
        """DONE; with ``chain`` (and no stop asked), the next command claimed in the same
        transaction, for the next ``run_next``."""
        if not self._chain or self._stop.is_set():
            return self._db.commands.complete(command_id, worker_id=self._worker_id)
        batch = self._db.commands.complete_and_claim(
            [command_id],
            worker_id=self._worker_id,
            lease_seconds=self._options.lease_seconds,
            limit=self._options.worker_limit,
            engine_limits=self._engine_limits,
        )
        self._claimed = batch.claimed[0] if batch.claimed else None
        return batch.finished[0]


class LeaseKeeper:
    """Renews the command's lease in the background; ``check()`` raises ``LeaseLost`` once
    another worker has taken the command back."""

    def __init__(
        self, db: Database, command: Command, *, worker_id: str, lease: float, stop: threading.Event
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

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
