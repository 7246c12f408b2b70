"""``stackctl run``: the controller process, the way a Kubernetes controller manager is built.

Start: take the single-controller lease on the database (a second controller exits), put back
commands whose worker died (expired leases), scan the whole directory, then run, each in its
own thread: the watcher (files -> versions + commands), N workers (commands -> engine), the
periodic resync (the engine observed once, a RECONCILE only where a stack drifted:
``controller.reconcile.resync``), the notification sender (the outbox to its destinations:
``controller.delivery.notifications``), the image-update checker
(``controller.delivery.image_updates``) and the
lease renewal (which also checks that the database file is
still the one it opened: deleted or replaced, the controller stops with an error, exit 1).
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
import os
import random
import signal
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from controller.backends.docker import Engine
from controller.backends.engines import Engines
from controller.backends.shared.registry import RegistryDigests
from controller.commands.liveness import holder_gone
from controller.commands.worker import Worker
from controller.db import Database, RetentionPolicy
from controller.delivery.image_updates import ImageUpdateChecker
from controller.delivery.notifications.sender import Sender
from controller.desired.delivery import NotifyTarget
from controller.desired.engine_spec import LOCAL, EngineSpec
from controller.desired.reach import Reach
from controller.desired.repository_spec import RepositorySpec
from controller.models import Command, CommandType, Event, LogLevel
from controller.models.errors import AlreadyRunning, DatabaseUnusable, PermanentError, StackctlError
from controller.reconcile.reconciler import ReconcilerOptions
from controller.reconcile.resync import Resync, Round
from controller.sources.following import Sources, declarations
from controller.sources.git.sizing import DEFAULT_MAX_BYTES, DEFAULT_MAX_FILES, CheckoutLimits
from controller.sources.loader.engines_file import local_only
from controller.sources.puller import GitStats
from controller.sources.watcher import Claims, Watcher

log = logging.getLogger("stackctl.controller")

LEASE_TTL = 15.0
COMMAND_LEASE = 30.0
MAX_BACKOFF = 30.0  # seconds between attempts of a loop that keeps meeting a database fault
DISPATCH_EVERY = 0.5  # seconds between looks for due commands nobody announced
SIGNAL_POLL = 0.2  # seconds between run's looks at a received SIGTERM/SIGINT
IDLE_WAIT = 5.0  # the longest an idle worker sleeps unwoken (the dispatcher wakes it sooner)
COMPACT_FIRST = 60.0  # seconds after the start before the first compaction (start-up first)
COMPACT_EVERY = 3600.0  # seconds between compactions


def _backoff(failures: int) -> float:
    """0.5 s doubling to ``MAX_BACKOFF``: how long a loop waits after ``failures`` in a row."""
    return min(MAX_BACKOFF, 0.5 * 2 ** min(failures, 16))


def _dead_holder(db: Database) -> str | None:
    """The holder of a lease left by a controller of this host whose process is gone (killed):
    its lease and its commands' claims can be taken back without waiting for them to expire."""
    lease = db.leases.live()
    return lease.holder if lease is not None and holder_gone(lease) else None


@dataclass(frozen=True)
class DaemonOptions:
    manifests: Path
    db: Path
    workers: int = 1
    resync: float = 60.0
    quiet_ms: int = 50
    allow_empty: bool = False
    wait_timeout: float = 120.0
    max_failures: int = 5
    api: tuple[str, int] | None = None  # (host, port) of the HTTP API; None: no API
    api_token: str | None = None
    api_open_reads: bool = False  # with a token: the read endpoints need none
    console_session_hours: float = 12.0  # a console session's life once the token is entered
    api_max_connections: int = 1000  # --api-max-connections
    api_header_timeout: float = 10.0  # --api-header-timeout, seconds
    api_body_timeout: float = 30.0  # --api-body-timeout, seconds
    api_body_budget: int = 32  # --api-body-budget, MiB
    repository: RepositorySpec | None = None  # --git-url: the repository named `default`
    webhook_secret: bytes | None = None  # STACKCTL_GIT_WEBHOOK_SECRET, for `default`
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)  # what compaction keeps
    notify: tuple[NotifyTarget, ...] = ()  # --notify: the destinations of every stack by default
    public_url: str | None = None  # links in notifications and commit statuses
    # --notify-allow: the destinations manifests may name (none: no destination at all)
    notify_allow: tuple[str, ...] = ()
    # --secrets-dir: a folder whose files any manifest may name (besides its own root's)
    secrets_dir: Path | None = None
    # --git-max-checkout-bytes/-files: the most one checkout of a repository may hold
    git_max_checkout_bytes: int = DEFAULT_MAX_BYTES
    git_max_checkout_files: int = DEFAULT_MAX_FILES
    allowed_hosts: tuple[str, ...] = ()  # --allowed-host: more Host names the API answers
    registry_auth: Path | None = None  # --registry-auth: credentials of image-update checks
    # --engines: the named engines stacks may target (`local` always; more from the file).
    engines: Mapping[str, EngineSpec] = field(default_factory=local_only)

    @property
    def reach(self) -> Reach:
        """What manifests may name outside their compose part (``--notify-allow``,
        ``--secrets-dir``)."""
        return Reach(notify_allow=self.notify_allow, secrets_dir=self.secrets_dir)

    @property
    def git_dir(self) -> Path:
        """Where repositories are mirrored and checked out (beside the database)."""
        return self.db.parent / "git"


class Controller:
    def __init__(self, options: DaemonOptions, *, engine: Engine | None = None) -> None:
        self.options = options
        self.stop = threading.Event()
        self._wake = threading.Condition()
        self._fatal: StackctlError | None = None  # why the controller stopped by itself
        self._signalled: int | None = None  # SIGTERM/SIGINT received: stop (run acts on it)
        self.db = Database(db_path=options.db, on_unusable=self._give_up)
        self.holder = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._dead_holder = _dead_holder(self.db)
        lease = self.db.leases.acquire(
            holder=self.holder,
            pid=os.getpid(),
            hostname=socket.gethostname(),
            ttl=LEASE_TTL,
            take_over=self._dead_holder,
        )
        if lease is None:
            other = self.db.leases.live()
            self.db.close()
            raise AlreadyRunning(
                f"another stackctl run holds {options.db} (pid {other.pid if other else '?'} on "
                f"{other.hostname if other else '?'}); stop it first or use another --db"
            )
        self.engines = Engines(options.engines, local=engine)
        self.engine = self.engines.local
        self.resync = Resync(self.db, self.engines)
        self.sender = Sender(
            self.db,
            destinations=options.notify,
            repository=self._repository_spec,
            public_url=options.public_url,
            reach=options.reach,
            trusted_repository=options.repository,
        )
        self.claims = Claims()  # stack names per source: one name, one source
        self.watcher = Watcher(
            self.db,
            options.manifests,
            allow_empty=options.allow_empty,
            on_enqueue=self.wake_workers,
            claims=self.claims,
            reach=options.reach,
        )
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
        self._threads: list[threading.Thread] = []
        self._api = None
        for warning in self.db.permission_warnings():
            log.warning("%s", warning)

    # -- life --------------------------------------------------------------------------------

    def run(self, *, on_ready: Callable[[], None] = lambda: None) -> int:
        """Until ``stop`` is set; returns the exit code."""
        try:
            self._start_api()
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
            self._spawn(
                "watcher", lambda: self.watcher.watch(self.stop, quiet_ms=self.options.quiet_ms)
            )
            for index in range(self.options.workers):
                self._spawn(f"worker-{index}", lambda i=index: self._work(i))
            self._spawn("dispatcher", self._dispatch)
            self._spawn("resync", self._resync)
            self._spawn("repositories", self._follow_repositories)
            self._spawn("lease", self._keep_lease)
            self._spawn("retention", self._compact)
            self._spawn("notifications", lambda: self.sender.run(self.stop))
            self._spawn("image-updates", lambda: self.image_updates.run(self.stop))
            self._spawn("recovery", self._queue_after_faults)
            log.info(
                "controller running: manifests %s, database %s, %d worker(s)",
                self.watcher.root,
                self.options.db,
                self.options.workers,
            )
            on_ready()
            while not self.stop.wait(SIGNAL_POLL):
                self._take_signal()
            if self._fatal is not None:
                raise self._fatal  # after shutdown (finally): one error line, exit 1
            return 0
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        self.stop.set()
        self.wake_workers()
        self.sources.stop_all()
        for thread in self._threads:
            thread.join(timeout=30)
        if self._api is not None:
            self._api.stop()
        try:  # a database that fails now must not hide why we stop
            self.db.leases.release(holder=self.holder)
            self._event(LogLevel.INFO, "ControllerStopped", "controller stopped")
        except StackctlError as e:
            log.warning("releasing the controller lease: %s", e)
        log.info("controller stopped")
        self.db.close()

    def _start_api(self) -> None:
        if self.options.api is None:
            return
        # FastAPI and uvicorn are loaded only when the API is served.
        from controller.web.api.app import create_app
        from controller.web.api.hosts import HostPolicy
        from controller.web.api.limits import MIB, HookLimits
        from controller.web.api.server import start_server

        host, port = self.options.api
        app = create_app(
            db_path=self.options.db,
            token=self.options.api_token,
            readiness=self.readiness,
            engine_calls=self.engine_calls,
            open_reads=self.options.api_open_reads,
            on_push=self.sources.receive_push,
            git_stats=self.git_stats.snapshot,
            observe=lambda stack, engine: self.engines.get(engine).observe(stack),
            hosts=HostPolicy.served_as(
                bind=host, public_url=self.options.public_url, allowed=self.options.allowed_hosts
            ),
            session_hours=self.options.console_session_hours,
            public_url=self.options.public_url,
            hook_limits=HookLimits(
                body_budget=self.options.api_body_budget * MIB,
                body_timeout=self.options.api_body_timeout,
            ),
        )
        self._api = start_server(
            app,
            host=host,
            port=port,
            header_timeout=self.options.api_header_timeout,
            max_connections=self.options.api_max_connections,
        )
        log.info(
            "HTTP API and web console on http://%s:%d/ (actions %s)",
            host,
            self._api.port,
            "need the API token" if self.options.api_token else "off: set STACKCTL_API_TOKEN",
        )

    def readiness(self) -> dict[str, bool | str]:
        """What /readyz reports: the database takes a small write (a full disk shows; a read
        would not), the engine answers, the watcher runs and its last pass passed (one that
        failed is being retried). A failing check is the reason, as text."""
        checks: dict[str, bool | str] = {
            "database": True,
            "engine": True,
            "watcher": self.watcher.readiness(),
            "repositories": self.sources.readiness(),
        }
        try:
            self.db.probe_write()
        except StackctlError as e:
            checks["database"] = str(e)
        for engine in self.engines:  # `engine` is local's; `engine:NAME` each other's
            key = "engine" if engine.name == LOCAL else f"engine:{engine.name}"
            try:
                engine.ping()
                checks[key] = True
            except StackctlError as e:
                checks[key] = str(e)
        return checks

    def engine_calls(self) -> dict[str, int]:
        """Engine calls by operation, every engine's together (``stackctl_engine_calls``)."""
        total: Counter[str] = Counter()
        for engine in self.engines:
            total.update(engine.calls.counts)
        return dict(total)

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT stop ``run``. The handler only notes the signal, and ``run``
        acts on it within ``SIGNAL_POLL``: a handler runs in the main thread between two of
        its bytecodes, so one that called ``stop.set()`` (or logged) could interrupt that
        same call of the thread, or of the first handler when a second signal came (``timeout``
        sends two), and wait forever on the lock its own thread held: the controller never
        stopped."""

        def handler(signum: int, _frame: object) -> None:
            self._signalled = signum  # no lock, no I/O: see above

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def _take_signal(self) -> None:
        """Stop if a signal was noted (``install_signal_handlers``)."""
        if self._signalled is not None and not self.stop.is_set():
            log.info("received %s: stopping", signal.Signals(self._signalled).name)
            self.stop.set()
            self.wake_workers()

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=self._guard(name, target), name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _guard(self, name: str, target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except StackctlError as e:  # says what is wrong: the exit's error line, no traceback
                self._give_up(e)
            except Exception:
                log.exception("%s thread died; stopping the controller", name)
                self.stop.set()

        return run

    def _give_up(self, error: StackctlError) -> None:
        """Stop the controller because of ``error`` (the database is unusable, or was replaced):
        ``run`` raises the first such error once everything has stopped."""
        if self._fatal is None:
            self._fatal = error
        self.stop.set()
        with self._wake:
            self._wake.notify_all()

    # -- the loops ---------------------------------------------------------------------------

    def wake_workers(self) -> None:
        with self._wake:
            self._wake.notify_all()
        self.sender.wake()  # what queued the work (a version recorded) may have a message

    def _work(self, index: int) -> None:
        worker = Worker(
            self.db,
            self.engines,
            worker_id=f"{self.holder}-w{index}",
            logger=log,
            stop=self.stop,
            chain=True,  # a DONE command and this worker's next claim: one transaction
            options=ReconcilerOptions(
                root=self.watcher.root,
                files_dir=self.options.db.parent / "files",
                lease_seconds=COMMAND_LEASE,
                wait_timeout=self.options.wait_timeout,
                worker_limit=self.options.workers,
                max_failures=self.options.max_failures,
                yield_health_wait=True,
            ),
        )
        failures = 0
        try:
            while not self.stop.is_set():
                try:
                    outcome = worker.run_next()
                    failures = 0
                    if outcome is not None:
                        self.sender.wake()  # its end (and what it caused) may have a message
                except DatabaseUnusable:
                    return  # the controller stops (_give_up); retrying would read it again
                except StackctlError as e:  # e.g. the database is busy or full: back off
                    log.warning("worker %d: %s (retrying in %.1fs)", index, e, _backoff(failures))
                    outcome = None
                    failures += 1
                if failures:  # the whole back-off it announced: wake-ups do not cut it short
                    self.stop.wait(_backoff(failures - 1))
                elif outcome is None:
                    with self._wake:
                        self._wake.wait(timeout=IDLE_WAIT)
        finally:
            worker.release_claimed()  # a command claimed ahead and never started goes back

    def _dispatch(self) -> None:
        """Wake the idle workers when a command is due that nobody told them about: queued by
        another process (the CLI, the API's own connection) or out of its backoff. One cheap
        read every ``DISPATCH_EVERY`` seconds here, instead of every worker trying a claim (a
        write transaction) twice a second: an idle controller costs less CPU."""
        while not self.stop.wait(DISPATCH_EVERY):
            try:
                due = self.db.commands.get_next_pending()
            except StackctlError:
                continue  # the workers meet the fault themselves, with their backoff
            if due is not None:
                self.wake_workers()

    def _resync(self) -> None:
        rng = random.Random()
        failures = 0
        while not self.stop.wait(
            _backoff(failures) if failures else self.options.resync * rng.uniform(0.9, 1.1)
        ):
            try:
                self.resync_now()
                failures = 0
            except StackctlError as e:  # a database fault: try again sooner than a period
                log.warning("resync: %s (retrying in %.1fs)", e, _backoff(failures + 1))
                failures += 1

    def _repository_spec(self, name: str) -> RepositorySpec | None:
        """The followed repository ``name`` (for its commit-status settings), if any."""
        puller = self.sources.pullers().get(name)
        return puller.spec if puller is not None else None

    def _follow_repositories(self) -> None:
        """Keep the followed repositories in line with the flags and the watched directory's
        ``kind: Repository`` manifests, and pass on fetches asked with ``stackctl sync``."""
        seen = None
        while not self.stop.wait(0.5):
            try:
                if self.watcher.last is not seen:
                    seen = self.watcher.last
                    declared, broken = declarations(
                        seen,
                        flagged=self.options.repository,
                        secret=self.options.webhook_secret,
                    )
                    self.sources.update(declared, broken=broken)
                self.sources.take_requests()
            except StackctlError as e:
                log.warning("repositories: %s", e)
                seen = None  # try again

    def resync_now(self) -> Round:
        """One resync round over every stack the files and the repositories declare (valid or
        kept at their last good version): the engine observed once, a RECONCILE queued only
        for a stack that drifted or needs work (``controller.reconcile.resync``); none, nothing
        written."""
        names = set(self.watcher.managed_names())
        for puller in self.sources.pullers().values():
            names |= puller.watcher.managed_names()
        done = self.resync.round(names)
        for engine, why in done.unreachable:
            log.warning("resync: engine %s did not answer, its stacks wait: %s", engine, why)
        log.debug(
            "resync: %d stack(s) compared, %d busy, %d suspended, %d queued",
            done.stacks,
            done.skipped,
            done.suspended,
            len(done.queued),
        )
        if done.queued:
            self.wake_workers()
        return done

    def queue_unapplied(self) -> None:
        """An APPLY for every stack whose desired version is not applied and that has no
        pending command: whatever was lost to a kill (a command, a failed attempt's retry) is
        queued again at every start. Runs after the first scan, so a stack whose manifest is
        gone has its DELETE queued first and gets no APPLY. A suspended stack gets none: it
        would change nothing, and it reads Suspended whatever is applied."""
        for stack in self.db.stacks.list():
            if stack.current_version in (None, stack.applied_version) or stack.suspended:
                continue
            command, created = self.db.commands.enqueue_unless_pending(
                Command(
                    stack_id=stack.stack_id,
                    type=CommandType.APPLY_STACK_VERSION,
                    payload={
                        "version": stack.current_version,
                        "reason": f"controller start: {stack.current_version} is not applied",
                    },
                )
            )
            if created:
                log.info(
                    "%s: %s is not applied (applied: %s); queued command %s",
                    stack.stack_id,
                    stack.current_version,
                    stack.applied_version or "none",
                    command.command_id,
                )
        self.wake_workers()

    def _compact(self) -> None:
        """Keep the database bounded: every ``COMPACT_EVERY`` seconds, delete the finished
        commands, log lines and events the retention policy no longer keeps, in short
        transactions (``db.retention``). A database fault is tried again at the next period."""
        delay = COMPACT_FIRST
        while not self.stop.wait(delay):
            delay = COMPACT_EVERY
            try:
                done = self.db.retention.compact(self.options.retention, stop=self.stop.is_set)
            except StackctlError as e:
                log.warning("compaction: %s (tried again in %.0fs)", e, COMPACT_EVERY)
                continue
            if done.commands or done.events:
                log.info(
                    "compaction: deleted %d finished command(s) with %d log line(s) and %d"
                    " event(s) in %d transaction(s) (longest %.3fs)",
                    done.commands,
                    done.command_logs,
                    done.events,
                    done.transactions,
                    done.longest_transaction_s,
                )

    def _keep_lease(self) -> None:
        while not self.stop.wait(LEASE_TTL / 3):
            try:
                self.db.check_identity()  # renewing a lease on a deleted file proves nothing
            except PermanentError as e:
                self._give_up(e)
                return
            try:
                if not self.db.leases.renew(holder=self.holder, ttl=LEASE_TTL):
                    log.error("lost the controller lease on %s; stopping", self.options.db)
                    self.stop.set()
            except StackctlError as e:
                log.warning("renewing the controller lease: %s", e)
            try:
                for command in self.db.commands.recover_expired():
                    log.warning(
                        "command %s: its worker stopped; back in the queue", command.command_id
                    )
                    self.wake_workers()
            except StackctlError as e:
                log.warning("putting interrupted commands back: %s", e)

    def _queue_after_faults(self) -> None:
        """Queue the stacks not applied again, with backoff, after database faults were met
        (``Database.faults`` moved): what the start could not queue is queued once the database
        takes writes again. (The watcher runs its own failed passes again.)"""
        seen, failures = 0, 0
        while not self.stop.wait(_backoff(failures) if failures else 1.0):
            faults = self.db.faults
            if faults == seen:
                continue
            try:
                self.queue_unapplied()
            except StackctlError:  # still failing: again after the backoff
                failures += 1
                continue
            if failures:
                log.info("the database takes writes again: the stacks not applied are queued")
            seen, failures = faults, 0

    def _event(self, level: LogLevel, reason: str, message: str) -> None:
        self.db.events.add(Event(level=level, reason=reason, message=message))
