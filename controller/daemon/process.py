"""``stackctl run``: the controller process, the way a Kubernetes controller manager is built.

Start: take the single-controller lease on the database (a second controller exits), put back
commands whose worker died (expired leases), scan the whole directory, then run each loop in its
own thread; each loop is a module of ``controller.daemon``, and this one builds the
``Controller``, starts the loops and stops them:

- the watcher (files -> versions + commands: ``controller.sources.watcher``);
- N workers (commands -> engine) and their dispatcher (``workers``);
- the periodic resync (the engine observed once, a RECONCILE only where a stack drifted:
  ``resyncing``, ``controller.reconcile.resync``);
- the followed repositories (``repositories``);
- the notification sender (the outbox to its destinations: ``controller.delivery.notifications``)
  and the image-update checker (``controller.delivery.image_updates``);
- the database's changes, by whichever process (``db_watch``: the dispatcher and the
  repositories' loop wait on them instead of reading the database on a timer);
- the lease renewal (which also checks that the database file is still the one it opened:
  deleted or replaced, the controller stops with an error, exit 1: ``lease``);
- compaction (``compaction``) and the queueing of what database faults lost (``queueing``);
- the HTTP API's server (``api``).

SIGTERM/SIGINT set one stop event: the watcher stops, the workers abandon their command at the
next step boundary (it goes back to the queue), the lease is released, exit 0.
A SIGKILL loses nothing: the queue is on disk and an expired claim is run again on restart.

Transient database faults (a full disk, an I/O error, a lock held too long) stop nothing:
every loop meets them as a ``TransientError`` and tries again with backoff (a worker's wait is
not cut short by the dispatcher's wake-ups), ``/readyz`` answers 503 with the reason, and the
watcher runs a pass that failed halfway again itself until one passes, so the files' state is
recorded once the database takes writes again, without waiting for another file change. A
database found corrupt (``DatabaseUnusable``), by whichever thread, stops the controller:
``run`` raises it after shutdown, and ``stackctl run`` prints it as one ``error:`` line, exit 1.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path

from controller.backends.docker import Engine
from controller.backends.engines import Engines
from controller.backends.shared.registry import RegistryDigests
from controller.daemon.api import engine_calls, readiness, start_api
from controller.daemon.compaction import compact
from controller.daemon.db_watch import watch_database
from controller.daemon.lease import keep_lease, take_lease
from controller.daemon.life import Life
from controller.daemon.options import DaemonOptions
from controller.daemon.pulling import follow_repositories, repository_spec
from controller.daemon.queueing import queue_after_faults, queue_unapplied
from controller.daemon.resyncing import resync_every, resync_round
from controller.daemon.workers import dispatch, reconciler_options, work
from controller.db import Database
from controller.delivery.image_updates import ImageUpdateChecker
from controller.delivery.notifications.sender import Sender
from controller.models import Event, LogLevel
from controller.models.errors import StackctlError
from controller.reconcile.resync import Resync, Round
from controller.sources import inotify
from controller.sources.effects import BulkRecording
from controller.sources.following import Sources
from controller.sources.git.sizing import CheckoutLimits
from controller.sources.puller import GitStats
from controller.sources.watcher import Claims, Watcher

__all__ = ["Controller", "DaemonOptions"]

log = logging.getLogger("stackctl.controller")

# The sender looks at its outbox when woken (a transition wrote to it: this process's wakes, or
# a write to the database heard by ``db_watch``) or when its next retry is due; this long at
# most otherwise (a safety net).
SENDER_IDLE = 60.0


class Controller:
    """One ``stackctl run``: built (the lease taken, its parts made), run (its threads started,
    until stopped), shut down (threads joined, lease released, database closed)."""

    def __init__(self, options: DaemonOptions, *, engine: Engine | None = None) -> None:
        self.options = options
        self.life = Life()
        self.stop = self.life.stop
        self.db = Database(db_path=options.db, on_unusable=self.life.give_up)
        try:
            self.holder, self._dead_holder = take_lease(self.db, path=options.db)
        except BaseException:  # another controller holds it: nothing of ours stays open
            self.life.close()
            raise
        self.engines = Engines(options.engines, local=engine)
        self.engine = self.engines.local
        self.resync = Resync(self.db, self.engines)
        self._db_bell = inotify.Doorbell()  # rung at shutdown: the database's watch ends
        self._build_sources()
        self._api = None
        for warning in self.db.permission_warnings():
            log.warning("%s", warning)

    def _build_sources(self) -> None:
        """The sender, the watcher, the followed repositories and the image-update checker."""
        options = self.options
        self.sender = Sender(
            self.db,
            destinations=options.notify,
            repository=lambda name: repository_spec(self.sources, name),
            public_url=options.public_url,
            reach=options.reach,
            trusted_repository=options.repository,
        )
        self.claims = Claims()  # stack names per source: one name, one source
        # While the watcher records a large pass, one worker runs (``daemon.workers``).
        self.bulk = BulkRecording(on_end=self.wake_workers)
        self.watcher = Watcher(
            self.db,
            options.manifests,
            allow_empty=options.allow_empty,
            on_enqueue=self.wake_workers,
            claims=self.claims,
            reach=options.reach,
            bulk=self.bulk,
        )
        self.watcher.on_pass = self.life.changes.notify  # the repositories' loop looks
        self.git_stats = GitStats()
        self.sources = Sources(
            self.db,
            state_dir=options.git_dir,
            claims=self.claims,
            on_enqueue=self.wake_workers,
            stats=self.git_stats,
            reach=options.reach,
            limits=CheckoutLimits(
                max_bytes=options.git_max_checkout_bytes, max_files=options.git_max_checkout_files
            ),
        )
        self.image_updates = ImageUpdateChecker(
            self.db,
            engine=self.engine,
            digests=RegistryDigests(auth_file=options.registry_auth),
            root=self.watcher.root,
            on_enqueue=self.wake_workers,
        )

    @property
    def _threads(self) -> list[threading.Thread]:
        """The loops' threads (``Life.threads``)."""
        return self.life.threads

    # -- life --------------------------------------------------------------------------------

    def run(self, *, on_ready: Callable[[], None] = lambda: None) -> int:
        """Until ``stop`` is set; returns the exit code."""
        try:
            self._api = start_api(
                self.options,
                readiness=self.readiness,
                engines=self.engines,
                sources=self.sources,
                git_stats=self.git_stats,
                claims=self.claims,
            )
            self._catch_up()
            self._spawn_loops()
            log.info(
                "controller running: manifests %s, database %s, %d worker(s)",
                self.watcher.root,
                self.options.db,
                self.options.workers,
            )
            on_ready()
            self.life.wait_for_stop(on_signal=self.wake_workers)
            if self.life.fatal is not None:
                raise self.life.fatal  # after shutdown (finally): one error line, exit 1
            return 0
        finally:
            self.shutdown()

    def _catch_up(self) -> None:
        """Before the loops: the commands of a dead worker back in the queue, one scan of the
        watched directory, an APPLY for every stack not applied."""
        for command in self.db.commands.recover_expired(dead_worker_prefix=self._dead_holder):
            log.warning(
                "command %s (%s %s) was interrupted; it runs again",
                command.command_id,
                command.type,
                command.stack_id,
            )
        self._event(
            LogLevel.INFO,
            "ControllerStarted",
            f"watching {self.watcher.root} with {self.options.workers} worker(s)",
        )
        self.watcher.sync_safely()
        try:
            self.queue_unapplied()
        except StackctlError as e:  # a database fault: the recovery loop does it again
            log.warning("queueing the stacks not applied yet: %s", e)

    def _spawn_loops(self) -> None:
        """One thread per loop (each module of ``controller.daemon`` says what its loop does)."""
        life, db, options, wake = self.life, self.db, self.options, self.wake_workers
        reconciler = reconciler_options(
            root=self.watcher.root,
            files_dir=options.files_dir,
            wait_timeout=options.timeout,
            workers=options.workers,
            max_failures=options.max_failures,
        )
        workers = {
            f"worker-{index}": partial(
                work, db, self.engines, index=index, holder=self.holder, options=reconciler,
                life=life, on_outcome=self.sender.wake, bulk=self.bulk,
            )
            for index in range(options.workers)
        }  # fmt: skip
        loops: dict[str, Callable[[], None]] = {
            "watcher": partial(self.watcher.watch, self.stop, quiet_ms=options.debounce_ms),
            **workers,
            "dispatcher": partial(dispatch, db, life=life, wake=wake),
            "database": partial(
                watch_database, Path(db.path), life=life, bell=self._db_bell,
                on_change=self.sender.wake,
            ),
            "resync": partial(resync_every, options.resync, life=life, once=self.resync_now),
            "repositories": partial(
                follow_repositories, self.sources, watcher=self.watcher,
                flagged=options.repository, secret=options.webhook_secret, life=life,
            ),
            "lease": partial(
                keep_lease, db, holder=self.holder, path=options.db, life=life, wake=wake
            ),
            "retention": partial(compact, db, policy=options.retention, life=life),
            "notifications": partial(self.sender.run, self.stop, idle=SENDER_IDLE),
            "image-updates": partial(self.image_updates.run, self.stop),
            "recovery": partial(queue_after_faults, db, life=life, queue=self.queue_unapplied),
        }  # fmt: skip
        for name, loop in loops.items():
            life.spawn(name, loop)

    def shutdown(self) -> None:
        self.stop.set()
        self.wake_workers()
        self.watcher.wake()  # out of its wait for a file event now, not within a second
        self.life.changes.notify()  # the dispatcher and the repositories' loop: out of theirs
        self._db_bell.ring()
        self.sources.stop_all()
        self.life.join(timeout=30)
        self._db_bell.close()
        if self._api is not None:
            self._api.stop()
        try:  # a database that fails now must not hide why we stop
            self.db.leases.release(holder=self.holder)
            self._event(LogLevel.INFO, "ControllerStopped", "controller stopped")
        except StackctlError as e:
            log.warning("releasing the controller lease: %s", e)
        log.info("controller stopped")
        self.db.close()
        self.life.close()

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT stop ``run`` (``Life.install_signal_handlers``)."""
        self.life.install_signal_handlers()

    # -- what the loops and the API share ----------------------------------------------------

    def wake_workers(self) -> None:
        self.life.wake()
        self.sender.wake()  # what queued the work (a version recorded) may have a message

    def readiness(self) -> dict[str, bool | str]:
        """What /readyz reports (``daemon.api.readiness``)."""
        return readiness(self.db, watcher=self.watcher, sources=self.sources, engines=self.engines)

    def engine_calls(self) -> dict[str, int]:
        """Engine calls by operation, every engine's together (``stackctl_engine_calls``)."""
        return engine_calls(self.engines)

    def resync_now(self) -> Round:
        """One resync round (``daemon.resyncing``); the workers woken when it queued any."""
        done = resync_round(self.resync, watcher=self.watcher, sources=self.sources)
        if done.queued:
            self.wake_workers()
        return done

    def queue_unapplied(self) -> None:
        """An APPLY for every stack not applied (``daemon.queueing``); the workers woken."""
        queue_unapplied(self.db)
        self.wake_workers()

    def _event(self, level: LogLevel, reason: str, message: str) -> None:
        self.db.events.add(Event(level=level, reason=reason, message=message))
