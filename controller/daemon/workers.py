"""The workers (commands -> engine) and their dispatcher.

Each worker thread runs the queue's commands one after the other; idle, it sleeps until woken
(by whatever queued work: the watcher, a resync, the dispatcher) or ``IDLE_WAIT`` passes. A
database fault is retried with backoff, and that wait is not cut short by wake-ups. At stop, a
worker abandons its command at the next step boundary (it goes back to the queue).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from controller.backends.engines import Engines
from controller.commands.worker import Worker
from controller.daemon.life import Life, backoff
from controller.db import Database
from controller.models.errors import DatabaseUnusable, StackctlError
from controller.reconcile.reconciler import ReconcilerOptions
from controller.sources.effects import BulkRecording

log = logging.getLogger("stackctl.controller")

COMMAND_LEASE = 30.0
DISPATCH_MAX = 60.0  # the longest the dispatcher sleeps with nothing due and nothing heard
IDLE_WAIT = 5.0  # the longest an idle worker sleeps unwoken (the dispatcher wakes it sooner)


def reconciler_options(
    *, root: Path, files_dir: Path, wait_timeout: float, workers: int, max_failures: int
) -> ReconcilerOptions:
    """What every worker's reconciler is given."""
    return ReconcilerOptions(
        root=root,
        files_dir=files_dir,
        lease_seconds=COMMAND_LEASE,
        wait_timeout=wait_timeout,
        worker_limit=workers,
        max_failures=max_failures,
        yield_health_wait=True,
    )


def work(
    db: Database,
    engines: Engines,
    *,
    index: int,
    holder: str,
    options: ReconcilerOptions,
    life: Life,
    on_outcome: Callable[[], None],
    bulk: BulkRecording | None = None,
) -> None:
    """Worker ``index`` of the controller ``holder``, until stopped; ``on_outcome`` after each
    command it ran (its end, and what it caused, may have a message to send). While ``bulk``
    is active (the watcher records a large pass) every worker but the first gives way once
    its command (and the one it claimed ahead) is done: woken at each recorded batch, it
    looks again, and runs again when the pass ends (``BulkRecording``)."""
    worker = Worker(
        db,
        engines,
        worker_id=f"{holder}-w{index}",
        logger=log,
        stop=life.stop,
        chain=True,  # a DONE command and this worker's next claim: one transaction
        options=options,
    )
    failures = 0
    try:
        while not life.stop.is_set():
            if index and bulk is not None and bulk.active and not worker.claimed_ahead:
                life.idle(IDLE_WAIT)
                continue
            try:
                outcome = worker.run_next()
                failures = 0
                if outcome is not None:
                    on_outcome()
            except DatabaseUnusable:
                return  # the controller stops (give_up); retrying would read it again
            except StackctlError as e:  # e.g. the database is busy or full: back off
                log.warning("worker %d: %s (retrying in %.1fs)", index, e, backoff(failures))
                outcome = None
                failures += 1
            if failures:  # the whole back-off it announced: wake-ups do not cut it short
                life.stop.wait(backoff(failures - 1))
            elif outcome is None:
                life.idle(IDLE_WAIT)
    finally:
        worker.release_claimed()  # a command claimed ahead and never started goes back


def dispatch(db: Database, *, life: Life, wake: Callable[[], None]) -> None:
    """Wake the idle workers when a command is due that nobody told them about: queued by
    another process (the CLI, the API's own connection: heard as a change of the database,
    ``Life.changes``, ``db_watch``) or out of its backoff (slept until then). One cheap read
    per change here, instead of every worker trying a claim (a write transaction) on a
    timer; and none on a timer: an idle controller costs less CPU."""
    seen = 0
    while not life.stop.is_set():
        try:
            due = db.commands.get_next_pending()
            later = None if due is not None else db.commands.next_not_before()
            sleep = DISPATCH_MAX if later is None else (later - db.clock()).total_seconds()
        except StackctlError:  # the workers meet the fault themselves, with their backoff
            due, sleep = None, backoff(0)
        if due is not None:
            wake()
        seen = life.changes.wait(seen, min(DISPATCH_MAX, sleep))
