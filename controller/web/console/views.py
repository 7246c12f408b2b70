"""What each page shows, as plain values built from the repositories (no HTML here).

The templates only lay these out; every rule (what counts as out of sync, which stacks a
filter keeps, where a version came from, what a container's ports are) lives here, so that it
is tested without a browser. A stack on a Swarm engine shows services and tasks
(``controller.models.swarm_rows``, as ``stackctl describe`` does) where the others show
containers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from controller.commands.operations import Condition, stack_conditions
from controller.db import Database
from controller.desired.differences import FieldChange, document_changes
from controller.desired.engine_spec import LOCAL
from controller.desired.shown import shown_compose
from controller.models import (
    Command,
    Event,
    HealthStatus,
    Stack,
    StackVersion,
    SyncStatus,
)
from controller.models.errors import NotFoundError
from controller.models.observed import Snapshot
from controller.models.stack_version import StackMetadata, VersionOrigin, version_number
from controller.models.swarm import SwarmSnapshot
from controller.models.swarm_rows import ServiceRow, TaskRow
from controller.sources.versions import version_engine
from controller.web.console.observed import ContainerRow, observed_rows

# (stack, engine) -> what the engine runs for the stack (a Swarm engine: its services); passed
# by the daemon.
Observe = Callable[[str, str], Snapshot | SwarmSnapshot]

# The table's status filter: its value in the URL -> what it keeps.
FILTERS: dict[str, str] = {
    "": "All",
    "synced": "Synced",
    "out-of-sync": "Out of sync",
    "degraded": "Degraded",
    "failed": "Failed",
    "suspended": "Suspended",
    "pinned": "Pinned",
}


@dataclass(frozen=True)
class StackRow:
    name: str
    desired: str | None
    latest: str | None  # shown when newer than desired (a pinned stack records, not applies)
    applied: str | None
    sync: str
    health: str
    suspended: bool
    pinned: bool
    failed: bool
    error: str | None
    updated_at: datetime
    origin: str
    suspended_by: tuple[str, ...] = ()  # "operator", "manifest"
    stamp: str = ""  # when it last changed (its row or its latest version): the poll's cursor

    @property
    def synced(self) -> bool:
        return self.sync == SyncStatus.SYNCED.value and self.applied == self.desired

    @property
    def suspension(self) -> str:
        """Who suspended it, as the badge's title says it."""
        ways = {"operator": "by stackctl suspend", "manifest": "by spec.suspend in its manifest"}
        return "; ".join(ways[who] for who in self.suspended_by)

    @property
    def out_of_sync(self) -> bool:
        """Neither synced nor suspended (a suspended stack is compared with nothing)."""
        return not self.synced and not self.suspended

    def matches(self, status: str, query: str) -> bool:
        if query and query.lower() not in self.name.lower():
            return False
        return {
            "": True,
            "synced": self.synced,
            "out-of-sync": self.out_of_sync,
            "degraded": self.health == HealthStatus.DEGRADED.value,
            "failed": self.failed,
            "suspended": self.suspended,
            "pinned": self.pinned,
        }.get(status, True)


@dataclass(frozen=True)
class Counts:
    total: int
    synced: int
    out_of_sync: int
    suspended: int
    degraded: int
    failed: int


PAGE_SIZE = 100  # rows of the stacks table per page
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class StacksView:
    """One page of the table: the filtered stacks ``first``..``last`` (1-based) of ``matched``,
    by name; the counts over every stack, whatever the filter. ``marker`` and ``stamp`` were
    read before the rows: a change after them shows at the next poll."""

    rows: list[StackRow]  # this page's, filtered
    counts: Counts  # over every stack, whatever the filter
    marker: str
    stamp: str = ""  # the newest change of any stack: rows changed after it are newer
    matched: int = 0
    page: int = 1
    per: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.matched // self.per))

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0

    @property
    def keys(self) -> str:
        """Which stacks the page shows, in order, as a short digest: a poll from a page that
        shows the same ones gets the changed rows, one from any other page gets them all."""
        names = "\0".join(r.name for r in self.rows)
        return hashlib.sha256(names.encode()).hexdigest()[:16]

    def changed_since(self, stamp: str) -> list[StackRow]:
        """The rows changed after ``stamp`` (a view's ``stamp``)."""
        return [r for r in self.rows if r.stamp > stamp]


def stacks_view(
    db: Database,
    *,
    status: str = "",
    query: str = "",
    page: int = 1,
    per: int = PAGE_SIZE,
    only: Collection[str] | None = None,
) -> StacksView:
    """The table's page ``page`` (from 1; past the last: the last) of ``per`` rows of the
    stacks that are not deleted and that the filter keeps, by name; counts over all of them.
    ``only``: the stacks the viewer may read (``None``: all)."""
    marker = db.stacks.change_marker()  # first: a change after it shows at the next look
    stamp = db.stack_table.stamp()
    per = min(max(per, 1), MAX_PAGE_SIZE)
    page = max(page, 1)
    found = db.stack_table.page(
        status=status, query=query, offset=(page - 1) * per, limit=per, only=only
    )
    last = max(1, -(-found.matched // per))
    if page > last:  # fewer stacks than when the page was asked for: the last page there is
        page = last
        found = db.stack_table.page(
            status=status, query=query, offset=(page - 1) * per, limit=per, only=only
        )
    c = found.counts
    counts = Counts(
        total=c["total"],
        synced=c["synced"],
        out_of_sync=c["out-of-sync"],
        suspended=c["suspended"],
        degraded=c["degraded"],
        failed=c["failed"],
    )
    rows = [stack_row(r.stack, origin=r.latest, stamp=r.stamp) for r in found.rows]
    return StacksView(rows, counts, marker, stamp, found.matched, page, per)


def stack_row(stack: Stack, *, origin: VersionOrigin | None, stamp: str = "") -> StackRow:
    """``origin``: the stack's latest version (None: it has none); ``stamp``: when the row
    last changed (``controller.db.stack_table``)."""
    latest = origin.version if origin is not None else None
    newer = (
        latest is not None
        and stack.current_version is not None
        and version_number(latest) > version_number(stack.current_version)
    )
    return StackRow(
        name=stack.stack_id,
        desired=stack.current_version,
        latest=latest if newer else None,
        applied=stack.applied_version,
        sync=stack.sync_status.value,
        health=stack.health_status.value,
        suspended=stack.suspended,
        pinned=stack.pinned,
        failed=stack.last_error is not None,
        error=stack.last_error,
        updated_at=stack.updated_at,
        origin=origin_text(origin) if origin is not None else "-",
        suspended_by=tuple(str(who) for who in stack.suspended_by),
        stamp=stamp,
    )


def origin_text(metadata: StackMetadata | VersionOrigin) -> str:
    """``web.yaml`` or ``stacks/web.yaml @ infra (main) 1a2b3c4``: where a version came from."""
    where = metadata.source or "-"
    if metadata.git_repository is not None:
        where += f" @ {metadata.git_repository} ({metadata.git_ref})"
    if metadata.git_commit:
        where += f" {metadata.git_commit[:7]}"
    return where


@dataclass(frozen=True)
class VersionRow:
    version: str
    created_at: datetime
    created_by: str
    comment: str | None
    status: str
    current: bool
    applied: bool
    healthy: bool
    origin: str
    commit: str | None
    author: str | None
    subject: str | None


@dataclass(frozen=True)
class StackPage:
    stack: Stack
    row: StackRow
    conditions: list[Condition]
    containers: list[ContainerRow]
    engine_error: str | None
    versions: list[VersionRow]  # newest first
    commands: list[Command]
    events: list[Event]
    active: list[Command] = field(default_factory=list)  # pending or running
    engine: str = LOCAL  # the engine the desired version targets
    # Observed on a Swarm engine: its services and tasks (then ``containers`` is empty).
    swarm: bool = False
    services: list[ServiceRow] = field(default_factory=list)
    tasks: list[TaskRow] = field(default_factory=list)
    # The engine the applied version ran on, when the desired version targets another one:
    # the move waits for approval (``stackctl move``, or the page's Move button).
    moving_from: str | None = None


def stack_page(db: Database, name: str, *, observe: Observe | None) -> StackPage:
    stack = db.stacks.require(name)
    versions = db.stack_versions.list(name)
    latest = versions[-1] if versions else None
    current = next((v for v in versions if v.version == stack.current_version), None)
    commands = db.commands.list(stack_id=name, limit=20).items
    # A stack left running by `deletionPolicy: Orphan` has no desired version: where it ran.
    applied = next((v for v in versions if v.version == stack.applied_version), None)
    targeted = current or applied
    engine = version_engine(targeted) if targeted is not None else LOCAL
    snapshot, engine_error = _observed(observe, name, engine)
    observed = observed_rows(snapshot, current, versions)
    return StackPage(
        stack=stack,
        row=stack_row(stack, origin=_origin(latest)),
        conditions=stack_conditions(
            stack, latest_version=latest.version if latest else None, current=current
        ),
        containers=observed.containers,
        engine_error=engine_error,
        versions=[version_row(v, stack) for v in reversed(versions)],
        commands=commands,
        events=db.events.list(stack_id=name, limit=30).items,
        active=[c for c in commands if not c.status.terminal],
        engine=engine,
        swarm=observed.swarm,
        services=observed.services,
        tasks=observed.tasks,
        moving_from=_moving_from(current, applied),
    )


def _moving_from(current: StackVersion | None, applied: StackVersion | None) -> str | None:
    if current is None or applied is None:
        return None
    running = version_engine(applied)
    return running if running != version_engine(current) else None


def _origin(version: StackVersion | None) -> VersionOrigin | None:
    if version is None or version.version is None:
        return None
    m = version.metadata
    return VersionOrigin(version.version, m.source, m.git_repository, m.git_ref, m.git_commit)


def _observed(
    observe: Observe | None, name: str, engine: str
) -> tuple[Snapshot | SwarmSnapshot | None, str | None]:
    if observe is None:
        return None, "this page was not given the engine (the API runs without the controller)"
    try:
        return observe(name, engine), None
    except Exception as e:  # the page still shows everything the database knows
        return None, f"the engine did not answer: {e}"


def version_row(version: StackVersion, stack: Stack) -> VersionRow:
    m = version.metadata
    return VersionRow(
        version=version.version or "?",
        created_at=m.created_at,
        created_by=m.created_by,
        comment=m.comment,
        status=version.status.value,
        current=version.version == stack.current_version,
        applied=version.version == stack.applied_version,
        healthy=version.healthy_at is not None,
        origin=origin_text(m),
        commit=m.git_commit,
        author=m.git_author,
        subject=m.git_subject,
    )


@dataclass(frozen=True)
class DiffView:
    old: VersionRow
    new: VersionRow
    changes: list[FieldChange]
    labels: list[str]  # every version, newest first, for the two pickers


def diff_view(db: Database, name: str, *, old: str | None, new: str | None) -> DiffView:
    """The field-level changes from ``old`` to ``new`` (default: the desired version against
    the one before it); secrets masked by ``document_changes``."""
    stack = db.stacks.require(name)
    versions = db.stack_versions.list(name)
    labels = [v.version or "" for v in reversed(versions)]
    new = _normal(new) or stack.current_version or (labels[0] if labels else None)
    if new is None:
        raise NotFoundError(f"stack {name!r} has no version yet")
    after = db.stack_versions.require(name, new)
    old = _normal(old) or (f"v{after.number - 1}" if after.number > 1 else after.version)
    before = db.stack_versions.require(name, old or "")
    changes = document_changes(
        shown_compose(before.compose.model_dump(mode="json")),
        shown_compose(after.compose.model_dump(mode="json")),
    )
    return DiffView(version_row(before, stack), version_row(after, stack), changes, labels)


def _normal(label: str | None) -> str | None:
    if not label:
        return None
    return f"v{label}" if label.isdigit() else label


@dataclass(frozen=True)
class CommandPage:
    command: Command
    lines: list[Any]
    last_id: int


def command_page(db: Database, command_id: int) -> CommandPage:
    command = db.commands.require(command_id)  # status first: no line written before is missed
    lines = db.command_logs.list(command_id)
    return CommandPage(command, lines, lines[-1].log_id or 0 if lines else 0)
