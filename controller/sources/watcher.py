"""The watcher: the only producer of APPLY and DELETE commands from files.

``Watcher.sync()`` loads the watched root (reusing, through a ``LoadCache``, the load of every
entry whose files did not change), reads what the database knows, lets ``changes.detect``
decide (pure: new versions, invalid or fixed sources, warnings, stacks gone or back, refused
deletions) and carries each change out: a new digest records a new version (parent = the
previous one, metadata naming the source file and, in a git work tree, the last commit
touching it) and queues one APPLY in the same transaction. ``Watcher.watch()`` calls ``sync()``
after every burst of file changes (watchfiles groups them), so a burst gives one version, not
one per write. A pass that fails (no file descriptor left, a database fault) is run again by
the watcher itself, 0.5 s doubling to 30 s apart, until one passes: the change that triggered
it is recorded then, with no other file changing; meanwhile ``readiness()`` says why
(``/readyz``: 503).

It must never decide here what ``detect`` decides: this module does the I/O (files, database,
git, events, logs) and nothing else. The safety rules (a misread deletes nothing) live in
``changes``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import watchfiles

from controller.db import Database
from controller.desired import DesiredStack
from controller.desired.reach import Reach
from controller.models import (
    Command,
    CommandType,
    Event,
    LogLevel,
    StackMetadata,
)
from controller.models.errors import StackctlError
from controller.sources.changes import (
    NOTHING_KNOWN,
    Change,
    DeletionRefused,
    Detected,
    Known,
    ManifestFixed,
    ManifestInvalid,
    ManifestRestored,
    ManifestWarned,
    NewVersion,
    Said,
    Settings,
    StackGone,
    detect,
    to_delete,
)
from controller.sources.claims import Claims  # also imported from here by sources and the daemon
from controller.sources.git.worktree import git_metadata
from controller.sources.loader import LoadCache, LoadResult, load_root
from controller.sources.pins import carry_pins, checker_pins
from controller.sources.versions import load_desired, record_and_enqueue

log = logging.getLogger("stackctl.watcher")

QUIET_MS_DEFAULT = 50
# How often the notifier looks for events (a write waits at most this to be seen): a fifth of
# the quiet window, so 10 ms at the default 50 ms. Each look costs CPU, idle or not: every
# 10 ms is ~0.7 % of a core on this project's machine, every 50 ms (--debounce 250) ~0.15 %.
MAX_TICK_MS = 50
MAX_BURST_MS = 1600  # a burst that never goes quiet is synced this often
RETRY_FIRST, RETRY_MAX = 0.5, 30.0  # seconds before a failed pass runs again, doubling


def retry_delay(failures: int) -> float:
    """How long a pass waits after ``failures`` (>= 1) failed in a row."""
    return min(RETRY_MAX, RETRY_FIRST * 2 ** min(failures - 1, 16))


@dataclass
class SyncReport:
    recorded: list[str] = field(default_factory=list)  # "name vN"
    deleted: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)  # sources with errors
    kept: list[str] = field(default_factory=list)  # stacks kept because their source is broken


class Watcher:
    def __init__(
        self,
        db: Database,
        root: Path,
        *,
        allow_empty: bool = False,
        on_enqueue: Callable[[], None] = lambda: None,
        source: str = "the watched directory",
        claims: Claims | None = None,
        metadata: Callable[[str], dict[str, str]] | None = None,
        reach: Reach = Reach(),
    ) -> None:
        """``source`` names this watcher's source in messages and in ``claims`` (shared with the
        watchers of the other sources); ``metadata`` gives the git provenance of a version from
        its source file (default: the last commit touching it, when the root is a work tree);
        ``reach`` is what the manifests may name outside their compose part (the operator's
        ``--notify-allow`` and ``--secrets-dir``)."""
        self._db = db
        # Absolute but not resolved: a root that is a symlink to a release folder keeps its
        # name, so stacks keep their root and bind sources across releases.
        self.root = root.absolute()
        self._settings = Settings(root=self.root, allow_empty=allow_empty)
        self._on_enqueue = on_enqueue
        self._reach = reach
        self.source = source
        self._claims = claims
        self._provenance = metadata or (lambda file: git_metadata(self.root, file))
        self._nudged = threading.Event()  # another source's claims changed: look again
        if claims is not None:
            claims.join(source, self._nudged.set)
        self._said = Said()  # what was already reported, so each thing is said once
        self.last: LoadResult | None = None
        self.cache: LoadCache = LoadCache()  # entries whose files did not change load once
        self.kept: set[str] = set()  # stacks whose source is broken: kept at their last version
        self.alive = threading.Event()
        self.failing: str | None = None  # why the passes fail now; None once one passed
        self._failures = 0  # passes failed in a row
        self._retry_at: float | None = None  # monotonic time of the next try of a failed pass

    # -- one pass ----------------------------------------------------------------------------

    def sync(self) -> SyncReport:
        """Load the root, decide what changed (``changes.detect``) and carry it out. Never
        raises for bad files."""
        if not self.root.is_dir() or not os.access(self.root, os.R_OK | os.X_OK):
            report = SyncReport()
            self._carry_out(
                detect(None, NOTHING_KNOWN, said=self._said, settings=self._settings), report
            )
            return report
        result = load_root(self.root, cache=self.cache, reach=self._reach)
        self.last = result
        elsewhere: dict[str, str] = {}
        if self._claims is not None:
            self._claims.update(self.source, set(result.stacks) | result.invalid_names)
            elsewhere = self._claims.elsewhere(self.source)
        known, unreadable = self._known(result, elsewhere)
        result = self._with_image_pins(result, known)
        detected = detect(
            result, known, said=self._said, settings=self._settings, elsewhere=elsewhere
        )
        report = SyncReport(
            invalid=[source for source, r in result.sources.items() if r.errors],
            kept=list(detected.kept or ()),
        )
        self._carry_out(detected, report, unreadable=unreadable)
        return report

    def _with_image_pins(self, result: LoadResult, known: Known) -> LoadResult:
        """The files' stacks with the image-update checker's pins carried
        (``controller.sources.pins``):
        only for stacks that follow their images and whose latest version differs from the
        files, so other stacks cost nothing."""
        carried: dict[str, DesiredStack] = {}
        for name, desired in result.stacks.items():
            head = known.heads.get(name)
            if desired.image_updates is None or head is None or head.digest == desired.digest:
                continue
            versions = self._db.stack_versions.list(name)
            own = checker_pins(versions)
            latest = self._db.stack_versions.latest(name)
            if not own or latest is None:
                continue
            pinned = carry_pins(load_desired(self._db, latest), desired, own_pins=own)
            if pinned is not desired:
                carried[name] = pinned
        return replace(result, stacks={**result.stacks, **carried}) if carried else result

    def _known(
        self, result: LoadResult, elsewhere: dict[str, str]
    ) -> tuple[Known, dict[str, Exception]]:
        """What the database knows, and the deletion policy of each stack about to be found
        gone. A policy that cannot be read fails the pass where that stack's deletion is
        carried out (after everything before it), not before anything is done."""
        known = Known(
            heads=self._db.stack_versions.heads(),
            stacks={s.stack_id: s for s in self._db.stacks.list()},
            newest=self._db.commands.newest_by_stack(),
        )
        policies: dict[str, str] = {}
        unreadable: dict[str, Exception] = {}
        for name in to_delete(result, known, settings=self._settings, elsewhere=elsewhere):
            try:
                latest = self._db.stack_versions.latest(name)
                policies[name] = (
                    load_desired(self._db, latest).deletion_policy if latest else "Delete"
                )
            except Exception as e:  # raised again in _carry_out, where it did
                unreadable[name] = e
        return replace(known, policies=policies), unreadable

    def _carry_out(
        self,
        detected: Detected,
        report: SyncReport,
        *,
        unreadable: dict[str, Exception] | None = None,
    ) -> None:
        # The watcher's memory changes where the one-piece sync changed it, so a pass that
        # fails midway (a database fault) repeats or skips what it did before: what was said
        # of the files before saying it; the kept stacks and a settled empty root before the
        # deletions; the empty-root warning once it is said.
        self._said = replace(detected.said, empty_root=self._said.empty_root)
        for change in detected.changes:
            if isinstance(change, StackGone | DeletionRefused) and detected.kept is not None:
                self.kept = set(detected.kept)
            if isinstance(change, StackGone):
                self._said = detected.said
                if unreadable and change.name in unreadable:
                    raise unreadable[change.name]
            self._act(change, report)
        if detected.kept is not None:
            self.kept = set(detected.kept)
        self._said = detected.said

    def _act(self, change: Change, report: SyncReport) -> None:
        match change:
            case ManifestFixed(source=source, names=names):
                for name in names or [None]:
                    self._event(name, LogLevel.INFO, "ManifestFixed", f"{source} is valid again")
                log.info("manifest valid again: %s", source)
            case ManifestInvalid():
                self._say_invalid(change)
            case ManifestWarned():
                self._say_warned(change)
            case NewVersion(desired=desired):
                self._record(desired, report)
            case ManifestRestored(name=name):
                self._adopt_again(name)
            case StackGone():
                self._let_go_of(change, report)
            case DeletionRefused(message=message):
                self._event(None, LogLevel.WARNING, "DeletionRefused", message)
                log.warning("%s", message)

    def _say_invalid(self, change: ManifestInvalid) -> None:
        rendered = [e.render() for e in change.errors]
        for name in change.names or [None]:
            self._event(
                name,
                LogLevel.ERROR,
                "ManifestInvalid",
                f"{change.source} is invalid; the last good version keeps running: "
                + "; ".join(rendered[:5]),
                data={"errors": [e.to_dict() for e in change.errors]},
            )
        log.error("manifest invalid: %s", "; ".join(rendered))

    def _say_warned(self, change: ManifestWarned) -> None:
        """Logged and recorded as an event once per distinct set, not at every pass."""
        rendered = [w.render() for w in change.warnings]
        for name in change.names or [None]:
            self._event(
                name,
                LogLevel.WARNING,
                "ManifestWarning",
                f"{change.source}: " + "; ".join(rendered[:5]),
                data={"warnings": [w.to_dict() for w in change.warnings]},
            )
        log.warning("manifest warning: %s", "; ".join(rendered))

    def _record(self, desired: DesiredStack, report: SyncReport) -> None:
        recorded = record_and_enqueue(
            self._db, desired, root=self.root, metadata=self._metadata(desired.source)
        )
        version = recorded.version
        if version is None:
            return
        report.recorded.append(f"{desired.name} {version.version}")
        log.info(
            "version recorded: %s %s (digest %s, source %s)",
            desired.name,
            version.version,
            desired.digest[:12],
            desired.source,
        )
        if recorded.command is not None:
            log.info(
                "queued command %s: %s %s",
                recorded.command.command_id,
                recorded.command.type,
                desired.name,
            )
            self._on_enqueue()
        else:
            log.info("%s is pinned: %s recorded, not applied", desired.name, version.version)

    def _let_go_of(self, change: StackGone, report: SyncReport) -> None:
        name = change.name
        if change.policy == "Orphan":
            self._db.stacks.update(name, current_version=None)
            self._event(
                name,
                LogLevel.WARNING,
                "StackOrphaned",
                f"{name}: manifest removed; deletionPolicy Orphan leaves it running",
            )
        else:
            self._enqueue(name, CommandType.DELETE_STACK, {"reason": "manifest removed"})
            self._event(
                name,
                LogLevel.INFO,
                "StackDeleted",
                f"{name}: manifest removed; deleting (deletionPolicy Delete)",
            )
        report.deleted.append(name)
        log.info("manifest of %s removed: %s", name, change.policy)

    def _adopt_again(self, name: str) -> None:
        """Its manifest is back, unchanged: make its latest version current and apply it."""
        latest = self._db.stack_versions.latest(name)
        if latest is None:
            return
        with self._db.transaction():  # one step: a DELETE ending meanwhile sees the APPLY
            self._db.stacks.update(name, current_version=latest.version)
            self._event(
                name,
                LogLevel.INFO,
                "ManifestRestored",
                f"{name}: manifest is back; applying {latest.version}",
            )
            self._enqueue(name, CommandType.APPLY_STACK_VERSION, {"version": latest.version})

    def _enqueue(self, name: str, kind: CommandType, payload: dict) -> None:
        command = self._db.commands.enqueue(Command(stack_id=name, type=kind, payload=payload))
        log.info("queued command %s: %s %s", command.command_id, kind, name)
        self._on_enqueue()

    def _event(
        self,
        stack_id: str | None,
        level: LogLevel,
        reason: str,
        message: str,
        data: dict | None = None,
    ) -> None:
        self._db.events.add(
            Event(stack_id=stack_id, level=level, reason=reason, message=message, data=data)
        )

    def _metadata(self, source: str) -> StackMetadata:
        return StackMetadata(created_by="stackctl watcher", **self._provenance(source))

    def nudge(self) -> None:
        """Look again soon (another source's claims changed): ``watch`` syncs within ~1 s."""
        self._nudged.set()

    def take_nudge(self) -> bool:
        nudged = self._nudged.is_set()
        self._nudged.clear()
        return nudged

    def readiness(self) -> bool | str:
        """True, or why the watcher is not doing its job: not running, or failing passes."""
        if not self.alive.is_set():
            return "not running"
        return self.failing or True

    def managed_names(self) -> set[str]:
        """Every stack the files declare, valid or kept at its last good version."""
        if self.last is None:
            return set()
        return set(self.last.stacks) | self.last.invalid_names | self.kept

    # -- the loop ----------------------------------------------------------------------------

    def watch(self, stop: threading.Event, *, quiet_ms: int = QUIET_MS_DEFAULT) -> None:
        """Sync after every burst of changes, once ``quiet_ms`` passed without another (or
        ``MAX_BURST_MS`` into an endless one), until ``stop`` is set. A root that is a symlink
        swapped to a new folder is noticed within a second and watched anew.

        The quiet window is kept here, not by watchfiles. Its ``step`` is both how often it
        looks for events and the quiet it waits for: ``step=50`` made a write wait 50-100 ms
        before it was even handed over. Here it looks every fifth of the window (10 ms by
        default; see ``MAX_TICK_MS`` for the cost), hands a burst over after one quiet tick, and
        its timeout, set to end just before the window does, says that no other change came;
        the last few milliseconds are waited here."""
        self.alive.set()
        tick = max(1, min(MAX_TICK_MS, quiet_ms // 5))
        try:
            while not stop.is_set():
                target = os.path.realpath(self.root)
                if not os.path.isdir(target):
                    stop.wait(max(1.0, self.retry_in()))
                    self.sync_safely()
                    continue
                try:
                    self._watch(target, stop, quiet=quiet_ms / 1000, tick=tick)
                except Exception as e:  # no watch could be set (no descriptor left): again
                    self._failed(e, what=f"watching {target}")
                    stop.wait(self.retry_in())
        finally:
            self.alive.clear()

    def _watch(self, target: str, stop: threading.Event, *, quiet: float, tick: int) -> None:
        """Watch ``target`` until ``stop`` or the root moves to another folder. A change made
        before the watch was in place would be missed: the first wake-up rescans."""
        first = True
        quiet_at: float | None = None  # when the burst seen so far has been quiet long enough
        burst_ends = 0.0  # when a burst that never goes quiet is synced anyway
        for changes in watchfiles.watch(
            target,
            debounce=MAX_BURST_MS,
            step=tick,
            stop_event=stop,
            rust_timeout=max(tick, round(quiet * 1000) - 2 * tick),
            yield_on_timeout=True,
            raise_interrupt=False,
        ):
            if os.path.realpath(self.root) != target:
                log.info("%s now points to %s; watching it", self.root, os.path.realpath(self.root))
                self.sync_safely()
                return
            now = time.monotonic()
            if changes:  # the newest was seen one tick ago, and came at most then
                if quiet_at is None:
                    burst_ends = now + MAX_BURST_MS / 1000
                quiet_at = now - tick / 1000 + quiet
            elif quiet_at is not None and now < quiet_at:
                stop.wait(quiet_at - now)  # at most a tick: the timeout ends just before
                now = time.monotonic()
            due = quiet_at is not None and (now >= quiet_at or now >= burst_ends)
            if due or first or self.retry_due() or self.take_nudge():
                quiet_at = None
                self.sync_safely()
            first = False

    def sync_safely(self) -> SyncReport | None:
        """One pass: its report, or None when it failed: then it is logged, ``failing`` says
        why, and it is due again after ``retry_delay`` (``retry_due``) whether or not a file
        changes: ``watch`` runs it then, and so does a repository's puller."""
        try:
            report = self.sync()
        except Exception as e:  # the watcher outlives any one bad pass, and retries it
            self._failed(e, what=f"sync of {self.root}")
            return None
        if self.failing is not None:
            log.info("sync of %s passed again", self.root)
        self.failing, self._failures, self._retry_at = None, 0, None
        return report

    def retry_due(self) -> bool:
        """A pass failed and its back-off is over: run it again."""
        return self._retry_at is not None and time.monotonic() >= self._retry_at

    def _failed(self, error: Exception, *, what: str) -> None:
        self._failures += 1
        delay = retry_delay(self._failures)
        self._retry_at = time.monotonic() + delay
        self.failing = f"{what} failed: {error} (retrying in {delay:.1f}s)"
        # A fault of the machine or the database says all in one line; anything else is a bug,
        # whose traceback is worth one look, not one per retry.
        if isinstance(error, StackctlError | OSError) or self._failures > 1:
            log.warning("%s", self.failing)
        else:
            log.exception("%s", self.failing)

    def retry_in(self) -> float:
        """Seconds until a failed pass is due again (0 when none is waiting)."""
        return 0.0 if self._retry_at is None else max(0.0, self._retry_at - time.monotonic())
