"""What the watcher does for each change ``changes.detect`` decided: the events and log lines
that say it, the versions it records, the APPLY and DELETE commands it queues.

Pure I/O, no decision: which change to make is ``changes``'s; when to look is the watcher's.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from controller.db import Database
from controller.desired.compact import Loaded
from controller.models import Command, CommandType, Event, LogLevel, StackMetadata
from controller.sources.changes import (
    Change,
    DeletionRefused,
    ManifestFixed,
    ManifestInvalid,
    ManifestRestored,
    ManifestWarned,
    NewVersion,
    StackGone,
)
from controller.sources.versions import Recorded, record_and_enqueue_many

log = logging.getLogger("stackctl.watcher")

# New versions recorded per transaction: one commit (an fsync at synchronous=FULL) per this many
# stacks instead of one each, and the write lock held ~50 ms at a time, so the workers' claims
# and completions interleave with a pass that records thousands.
BATCH = 100


class BulkRecording:
    """Whether a watcher is recording a large pass now (more than ``BATCH`` new versions, say
    10,000 manifests dropped at once), for the daemon's workers to give way meanwhile: all but
    one wait (``controller.daemon.workers``), so the first stacks converge at once while the
    rest are recorded, without the other workers (and the engine's work they cause) taking
    the GIL and the cores from the recording. ``on_end`` is called when the last one ends
    (the workers are woken)."""

    def __init__(self, on_end: Callable[[], None] = lambda: None) -> None:
        self._lock = threading.Lock()
        self._passes = 0
        self._on_end = on_end

    @property
    def active(self) -> bool:
        return self._passes > 0

    @contextmanager
    def recording(self, stacks: int) -> Iterator[None]:
        """Around the recording of ``stacks`` new versions: active while a large one runs."""
        if stacks <= BATCH:
            yield
            return
        with self._lock:
            self._passes += 1
        try:
            yield
        finally:
            with self._lock:
                self._passes -= 1
                ended = self._passes == 0
            if ended:
                self._on_end()


@dataclass
class SyncReport:
    """What one pass did, by stack or source (``Watcher.sync`` returns it)."""

    recorded: list[str] = field(default_factory=list)  # "name vN"
    deleted: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)  # sources with errors
    kept: list[str] = field(default_factory=list)  # stacks kept because their source is broken


class Effects:
    """Carries out the changes of one watched root in ``db``; ``on_enqueue`` wakes the workers,
    ``provenance`` gives the git metadata of a version from its source file."""

    def __init__(
        self,
        db: Database,
        root: Path,
        *,
        on_enqueue: Callable[[], None],
        provenance: Callable[[str], dict[str, str]],
        bulk: BulkRecording | None = None,
    ) -> None:
        self._db = db
        self._root = root
        self._on_enqueue = on_enqueue
        self._provenance = provenance
        self._bulk = bulk or BulkRecording()

    def act(self, change: Change, report: SyncReport) -> None:
        """Carry ``change`` out; what it recorded or deleted goes in ``report``."""
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
                self.record([desired], report)
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

    def record(self, desireds: Sequence[Loaded], report: SyncReport) -> None:
        """Record each new version and queue its APPLY, ``BATCH`` stacks per transaction (each
        version with its APPLY in the same one: ``record_and_enqueue_many``); said in the log
        and the report once committed, and the workers woken after each batch, so they start
        on the first stacks while the next ones are recorded (one worker while a large pass is
        recorded: ``BulkRecording``)."""
        with self._bulk.recording(len(desireds)):
            self._record(desireds, report)

    def _record(self, desireds: Sequence[Loaded], report: SyncReport) -> None:
        for start in range(0, len(desireds), BATCH):
            chunk = desireds[start : start + BATCH]
            items = [(desired, self._metadata(desired.source)) for desired in chunk]
            done = record_and_enqueue_many(self._db, items, root=self._root)
            for desired, recorded in zip(chunk, done, strict=True):
                self._said_recorded(desired, recorded, report)
            if any(recorded.command is not None for recorded in done):
                self._on_enqueue()

    def _said_recorded(self, desired: Loaded, recorded: Recorded, report: SyncReport) -> None:
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
