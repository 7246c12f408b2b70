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

It must never decide here what ``detect`` decides: this module and the two it leans on do the
I/O (files, database, git, events, logs) and nothing else: ``effects`` carries each change out,
``watch_loop`` decides when a pass runs (bursts, retries, nudges). The safety rules (a misread
deletes nothing) live in ``changes``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from controller.db import Database
from controller.desired.compact import Loaded, expanded
from controller.desired.reach import Reach
from controller.sources.changes import (
    NOTHING_KNOWN,
    Change,
    CurrentVersion,
    DeletionRefused,
    Detected,
    Known,
    NewVersion,
    Said,
    Settings,
    StackGone,
    detect,
    to_delete,
)
from controller.sources.claims import Claims  # also imported from here by sources and the daemon
from controller.sources.effects import BulkRecording, Effects, SyncReport
from controller.sources.git.worktree import git_metadata, maybe_work_tree
from controller.sources.loader import LoadCache, LoadResult, collector_paused, load_root
from controller.sources.pins import carry_pins, checker_pins
from controller.sources.versions import load_desired
from controller.sources.watch_loop import WatchLoop


class Watcher(WatchLoop):
    """Watches one root of manifests and records what changes in it (this module's docstring)."""

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
        bulk: BulkRecording | None = None,
    ) -> None:
        """``source`` names this watcher's source in messages and in ``claims`` (shared with the
        watchers of the other sources); ``metadata`` gives the git provenance of a version from
        its source file (default: the last commit touching it, when the root is a work tree);
        ``reach`` is what the manifests may name outside their compose part (the operator's
        ``--notify-allow`` and ``--secrets-dir``); ``bulk`` says when it records a large pass
        (the daemon's workers give way meanwhile)."""
        super().__init__()
        self._db = db
        # Absolute but not resolved: a root that is a symlink to a release folder keeps its
        # name, so stacks keep their root and bind sources across releases.
        self.root = root.absolute()
        self._settings = Settings(root=self.root, allow_empty=allow_empty)
        self._reach = reach
        self.source = source
        self._claims = claims
        self._effects = Effects(
            db,
            self.root,
            on_enqueue=on_enqueue,
            provenance=metadata
            or (lambda file: git_metadata(self.root, file, in_git=self._in_git)),
            bulk=bulk,
        )
        self._nudged = threading.Event()  # another source's claims changed: look again
        if claims is not None:
            claims.join(source, self._nudged.set)
        self._said = Said()  # what was already reported, so each thing is said once
        self.last: LoadResult | None = None
        self.cache: LoadCache = LoadCache()  # entries whose files did not change load once
        self.kept: set[str] = set()  # stacks whose source is broken: kept at their last version
        self._in_git: bool | None = None  # the root is in a git work tree (asked once a pass)
        self.alive = threading.Event()

    # -- one pass ----------------------------------------------------------------------------

    def sync(self) -> SyncReport:
        """Load the root, decide what changed (``changes.detect``) and carry it out. Never
        raises for bad files. The cycle collector is off meanwhile (``collector_paused``)."""
        with collector_paused():
            return self._sync()

    def _sync(self) -> SyncReport:
        if not self.root.is_dir() or not os.access(self.root, os.R_OK | os.X_OK):
            report = SyncReport()
            self._carry_out(
                detect(None, NOTHING_KNOWN, said=self._said, settings=self._settings), report
            )
            return report
        result = load_root(self.root, cache=self.cache, reach=self._reach, compact=True)
        self._in_git = maybe_work_tree(self.root)
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
        carried: dict[str, Loaded] = {}
        for name, desired in result.stacks.items():
            head = known.heads.get(name)
            if desired.image_updates is None or head is None or head.digest == desired.digest:
                continue
            versions = self._db.stack_versions.list(name)
            own = checker_pins(versions)
            latest = self._db.stack_versions.latest(name)
            if not own or latest is None:
                continue
            model = expanded(desired)
            pinned = carry_pins(load_desired(self._db, latest), model, own_pins=own)
            if pinned is not model:
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
            stacks={
                stack_id: CurrentVersion(version)
                for stack_id, version in self._db.stacks.current_versions().items()
            },
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
        for change in _new_versions_together(detected.changes):
            if isinstance(change, list):
                self._effects.record(change, report)
                continue
            if isinstance(change, StackGone | DeletionRefused) and detected.kept is not None:
                self.kept = set(detected.kept)
            if isinstance(change, StackGone):
                self._said = detected.said
                if unreadable and change.name in unreadable:
                    raise unreadable[change.name]
            self._effects.act(change, report)
        if detected.kept is not None:
            self.kept = set(detected.kept)
        self._said = detected.said

    def nudge(self) -> None:
        """Look again now (another source's claims changed): ``watch`` syncs at once."""
        self._nudged.set()
        self.wake()

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


def _new_versions_together(changes: list[Change]) -> Iterator[Change | list[Loaded]]:
    """``changes`` in order, each run of ``NewVersion`` as one list of its stacks: recorded
    together, a batch per transaction (``Effects.record``)."""
    run: list[Loaded] = []
    for change in changes:
        if isinstance(change, NewVersion):
            run.append(change.desired)
            continue
        if run:
            yield run
            run = []
        yield change
    if run:
        yield run
