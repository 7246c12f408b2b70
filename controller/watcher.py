"""The watcher: the only producer of APPLY and DELETE commands from files.

``Watcher.sync()`` loads the watched root (reusing, through a ``LoadCache``, the load of every
entry whose files did not change) and compares every stack's digest with its latest recorded
version: a new digest records a new version (parent = the previous one, metadata
naming the source file and, in a git work tree, the last commit touching it) and queues one
APPLY. An unchanged digest records nothing. ``Watcher.watch()`` calls ``sync()`` after every
burst of file changes (watchfiles groups them), so a burst gives one version, not one per write.

Safety, because a watcher that deletes on a misread is worse than none:
- an invalid manifest records a ``ManifestInvalid`` event with file, line and message, and
  changes nothing: its stacks (from the source recorded in their latest version, even when the
  broken file no longer says which stacks it holds) keep their last good version;
- a stack is gone only when its source is gone or, valid, no longer declares it; then a
  DELETE_STACK is queued (``deletionPolicy: Delete``) or the stack is let go (``Orphan``);
- a missing or unreadable root, or one that suddenly yields no stacks while the database knows
  some, deletes nothing and records a warning event, unless ``allow_empty``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import watchfiles

from controller.db import Database
from controller.gitmeta import git_metadata
from controller.models import (
    Command,
    CommandStatus,
    CommandType,
    Event,
    LogLevel,
    Stack,
    StackMetadata,
    VersionHead,
)
from controller.source import LoadCache, LoadResult, load_root
from controller.versions import load_desired, record_and_enqueue

log = logging.getLogger("stackctl.watcher")

QUIET_MS_DEFAULT = 50


@dataclass
class SyncReport:
    recorded: list[str] = field(default_factory=list)  # "name vN"
    deleted: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)  # sources with errors
    kept: list[str] = field(default_factory=list)  # stacks kept because their source is broken


@dataclass(frozen=True)
class _Known:
    """What the database knows, read once per pass in three queries (not a few per stack:
    a pass over 1,000 unchanged stacks must stay cheap)."""

    heads: dict[str, VersionHead]  # each stack's latest version
    stacks: dict[str, Stack]
    newest: dict[str, tuple[CommandType, CommandStatus]]  # each stack's newest command


class Watcher:
    def __init__(
        self,
        db: Database,
        root: Path,
        *,
        allow_empty: bool = False,
        on_enqueue: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        # Absolute but not resolved: a root that is a symlink to a release folder keeps its
        # name, so stacks keep their root and bind sources across releases.
        self.root = root.absolute()
        self._allow_empty = allow_empty
        self._on_enqueue = on_enqueue
        self._reported: dict[str, str] = {}  # source -> fingerprint of its last reported errors
        self._warned: dict[str, str] = {}  # source -> fingerprint of its last reported warnings
        self._warned_empty = False
        self.last: LoadResult | None = None
        self.cache: LoadCache = LoadCache()  # entries whose files did not change load once
        self.kept: set[str] = set()  # stacks whose source is broken: kept at their last version
        self.alive = threading.Event()

    # -- one pass ----------------------------------------------------------------------------

    def sync(self) -> SyncReport:
        """Load the root and record what changed. Never raises for bad files."""
        report = SyncReport()
        if not self.root.is_dir() or not os.access(self.root, os.R_OK | os.X_OK):
            self._warn_empty(f"the watched directory {self.root} is missing or unreadable")
            return report
        result = load_root(self.root, cache=self.cache)
        self.last = result
        known = _Known(
            heads=self._db.stack_versions.heads(),
            stacks={s.stack_id: s for s in self._db.stacks.list()},
            newest=self._db.commands.newest_by_stack(),
        )
        self._report_errors(result, report, known=known)
        self._report_warnings(result)
        for desired in result.stacks.values():
            latest = known.heads.get(desired.name)
            if latest is not None and latest.digest == desired.digest:
                if self._let_go(desired.name, known):
                    self._adopt_again(desired.name)
                continue  # unchanged: record nothing (and ask git nothing)
            recorded = record_and_enqueue(
                self._db, desired, root=self.root, metadata=self._metadata(desired.source)
            )
            version = recorded.version
            if version is None:
                continue
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
        self._handle_gone(result, report, known=known)
        return report

    def _report_errors(self, result: LoadResult, report: SyncReport, *, known: _Known) -> None:
        for source, source_report in result.sources.items():
            if not source_report.errors:
                if self._reported.pop(source, None) is not None:
                    for name in source_report.names or [None]:
                        self._event(
                            name, LogLevel.INFO, "ManifestFixed", f"{source} is valid again"
                        )
                    log.info("manifest valid again: %s", source)
                continue
            report.invalid.append(source)
            rendered = [e.render() for e in source_report.errors]
            if not _new_to_say(self._reported, source, rendered):
                continue  # already said; don't repeat it at every scan
            names = source_report.names or self._stacks_from(source, known)
            for name in names or [None]:
                self._event(
                    name,
                    LogLevel.ERROR,
                    "ManifestInvalid",
                    f"{source} is invalid; the last good version keeps running: "
                    + "; ".join(rendered[:5]),
                    data={"errors": [e.to_dict() for e in source_report.errors]},
                )
            log.error("manifest invalid: %s", "; ".join(rendered))

    def _report_warnings(self, result: LoadResult) -> None:
        """What a source's load accepted but flagged (an unset variable, an ignored key):
        logged and recorded as an event once per distinct set, not at every pass."""
        self._warned = {s: f for s, f in self._warned.items() if s in result.sources}
        for source, source_report in result.sources.items():
            rendered = [w.render() for w in source_report.warnings]
            if not _new_to_say(self._warned, source, rendered) or not rendered:
                continue
            for name in source_report.names or [None]:
                self._event(
                    name,
                    LogLevel.WARNING,
                    "ManifestWarning",
                    f"{source}: " + "; ".join(rendered[:5]),
                    data={"warnings": [w.to_dict() for w in source_report.warnings]},
                )
            log.warning("manifest warning: %s", "; ".join(rendered))

    def _handle_gone(self, result: LoadResult, report: SyncReport, *, known: _Known) -> None:
        present = set(result.stacks) | result.invalid_names
        missing = []
        for name in self._known_stacks(known):
            if name in present:
                continue
            source = known.heads[name].source
            if source and source in result.sources and result.sources[source].errors:
                report.kept.append(name)  # its file is broken, not gone
            elif not self._let_go(name, known):
                missing.append(name)
        self.kept = set(report.kept)
        if not missing:
            self._warned_empty = False
            return
        if not result.stacks and not result.invalid_names and not self._allow_empty:
            self._warn_empty(
                f"{self.root} yields no stacks while {len(missing)} were recorded from it;"
                " deleting nothing (--allow-empty permits it)"
            )
            return
        self._warned_empty = False
        for name in sorted(missing):
            latest = self._db.stack_versions.latest(name)
            policy = load_desired(self._db, latest).deletion_policy if latest else "Delete"
            if policy == "Orphan":
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
            log.info("manifest of %s removed: %s", name, policy)

    def _known_stacks(self, known: _Known) -> list[str]:
        """Stacks this root produced (their latest version was recorded from it). Stacks
        recorded from elsewhere (``stackctl apply`` of another folder) are never deleted by
        this watcher."""
        return [name for name, head in known.heads.items() if head.root == str(self.root)]

    def _let_go(self, name: str, known: _Known) -> bool:
        """Orphaned (no current version), or a DELETE queued or done since the last change."""
        stack = known.stacks.get(name)
        if stack is None or stack.current_version is None:
            return True
        newest = known.newest.get(name)
        return (
            newest is not None
            and newest[0] is CommandType.DELETE_STACK
            and newest[1] is not CommandStatus.FAILED
        )

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

    def _stacks_from(self, source: str, known: _Known) -> list[str]:
        """Stacks whose latest version came from ``source`` (when the file no longer says)."""
        return [name for name, head in known.heads.items() if head.source == source]

    def _warn_empty(self, message: str) -> None:
        if not self._warned_empty:
            self._event(None, LogLevel.WARNING, "DeletionRefused", message)
            log.warning("%s", message)
        self._warned_empty = True

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
        return StackMetadata(created_by="stackctl watcher", **git_metadata(self.root, source))

    def managed_names(self) -> set[str]:
        """Every stack the files declare, valid or kept at its last good version."""
        if self.last is None:
            return set()
        return set(self.last.stacks) | self.last.invalid_names | self.kept

    # -- the loop ----------------------------------------------------------------------------

    def watch(self, stop: threading.Event, *, quiet_ms: int = QUIET_MS_DEFAULT) -> None:
        """Sync after every burst of changes until ``stop`` is set. A root that is a symlink
        swapped to a new folder is noticed within a second and watched anew."""
        self.alive.set()
        try:
            while not stop.is_set():
                target = os.path.realpath(self.root)
                if not os.path.isdir(target):
                    stop.wait(1.0)
                    self.sync_safely()
                    continue
                # A change made before the watch was in place would be missed: the first
                # wake-up of every watch (a change, or a 1 s timeout) rescans.
                first = True
                for changes in watchfiles.watch(
                    target,
                    debounce=1600,
                    step=quiet_ms,
                    stop_event=stop,
                    rust_timeout=1000,
                    yield_on_timeout=True,
                    raise_interrupt=False,
                ):
                    if os.path.realpath(self.root) != target:
                        log.info(
                            "%s now points to %s; watching it",
                            self.root,
                            os.path.realpath(self.root),
                        )
                        self.sync_safely()
                        break
                    if changes or first:
                        self.sync_safely()
                    first = False
        finally:
            self.alive.clear()

    def sync_safely(self) -> None:
        try:
            self.sync()
        except Exception:  # the watcher outlives any one bad pass; the next change retries
            log.exception("sync of %s failed", self.root)


def _new_to_say(said: dict[str, str], source: str, rendered: list[str]) -> bool:
    """Whether ``rendered`` differs from what was last said of ``source`` (and remember it):
    problems are reported once per distinct set, not at every pass."""
    fingerprint = "\n".join(rendered)
    if said.get(source, "") == fingerprint:
        return False
    said[source] = fingerprint
    return True
