"""Read-only views for the command line's one-shot reads: plain frozen values, no models.

``stackctl get stacks`` is a table printed by a process that lives a tenth of a second; opening
``Database`` (its repositories, pydantic, a write transaction for the migrations) would cost
more than the query. A view opens the file, reads, and closes it, and never writes.

It answers only what it can vouch for: a file whose schema is this stackctl's, writable (as
``Database`` needs it), read without a SQLite error. Otherwise it returns ``None`` and the
caller opens ``Database``, which migrates or says what is wrong, as it always did.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from controller.db.schema import SCHEMA_VERSION
from controller.db.suspension import STACK_COLUMNS, STACK_FROM

BUSY_TIMEOUT_SECONDS = 10.0  # as Database's


class StackView(NamedTuple):
    """A ``stacks`` row with the fields (and ``deleted``, ``suspended``) of
    ``controller.models.Stack``; the statuses are their plain values (``Synced``), not the
    enums, read as the repository reads them (``controller.db.suspension``). A named tuple,
    immutable: built ten times faster than a frozen dataclass (10,000 of them a listing)."""

    stack_id: str
    name: str
    current_version: str | None
    applied_version: str | None
    sync_status: str
    health_status: str
    suspended_by: tuple[str, ...]  # "operator", "manifest" (``models.Suspension``'s values)
    pinned: bool
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    engine: str | None = None  # the engine its desired version targets; None: no version

    @property
    def suspended(self) -> bool:
        return bool(self.suspended_by)

    @property
    def deleted(self) -> bool:
        """See ``Stack.deleted``: no desired and no applied version."""
        return self.current_version is None and self.applied_version is None


# Who suspended a stack, by (the operator's flag, the manifest's), as read.
_SUSPENDED_BY = {
    (0, 0): (),
    (1, 0): ("operator",),
    (0, 1): ("manifest",),
    (1, 1): ("operator", "manifest"),
}


def engine_sql(version: str) -> str:
    """The engine a ``stack_versions`` row (aliased ``version``) targets, as
    ``controller.sources.versions.version_engine`` reads it: its ``engine`` column (schema 12:
    its settings' ``target.engine`` when that is a non-empty text, else ``local``, kept when
    the row was written); NULL when there is no row (a LEFT JOIN's miss)."""
    return f"{version}.engine"


# The desired version's row (STACK_FROM) gives its engine too.
_STACK_COLUMNS = f"{STACK_COLUMNS}, {engine_sql('v')}"
# One stack's row, for ``stack_view`` (``plain_details``).
STACK_QUERY = f"SELECT {_STACK_COLUMNS} FROM {STACK_FROM} WHERE s.stack_id = ?"


def list_stacks(path: Path, *, stack_id: str | None = None) -> list[StackView] | None:
    """Every stack by id (or the one named ``stack_id``: an empty list when there is none), or
    ``None`` when ``Database`` must open the file instead."""
    where, args = ("WHERE s.stack_id = ?", (stack_id,)) if stack_id is not None else ("", ())
    rows = _read(
        path, f"SELECT {_STACK_COLUMNS} FROM {STACK_FROM} {where} ORDER BY s.stack_id", args
    )
    return None if rows is None else [_stack(row) for row in rows]


def _read(path: Path, sql: str, args: Sequence[object]) -> list[tuple] | None:
    """The rows of one query, or ``None`` when ``Database`` must open the file instead."""
    found = read_queries(path, [(sql, args)])
    return None if found is None else found[0]


def read_queries(
    path: Path, queries: Sequence[tuple[str, Sequence[object]]]
) -> list[list[tuple]] | None:
    """The rows of each query, read in one transaction (one snapshot of the file), or
    ``None`` when ``Database`` must open the file instead."""
    if not os.access(path, os.R_OK | os.W_OK):
        return None
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS)
    except sqlite3.Error:
        return None
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            return None
        if len(queries) > 1:
            conn.execute("BEGIN")  # deferred: one read snapshot for all the queries
        return [conn.execute(sql, args).fetchall() for sql, args in queries]
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def stack_view(row: tuple) -> StackView:
    """A row of ``STACK_QUERY`` (or ``list_stacks``' query) as a ``StackView``."""
    return _stack(row)


def _stack(row: tuple) -> StackView:
    (
        stack_id,
        name,
        current,
        applied,
        sync,
        health,
        suspended,
        declared,
        pinned,
        error,
        created,
        updated,
        engine,
    ) = row
    return StackView(
        stack_id,
        name,
        current,
        applied,
        sync,
        health,
        _SUSPENDED_BY[bool(suspended), bool(declared)],
        bool(pinned),
        error,
        # Stored as fixed-width UTC text ending in Z (rows.ts_to_db), which fromisoformat reads.
        datetime.fromisoformat(created),
        datetime.fromisoformat(updated),
        engine,
    )


@dataclass(frozen=True)
class MetadataView:
    """The fields of ``controller.models.StackMetadata`` that ``stackctl history`` and ``get
    versions`` show."""

    created_at: datetime
    created_by: str
    source: str | None
    comment: str | None
    git_subject: str | None
    git_commit: str | None
    git_repository: str | None
    git_ref: str | None
    git_author: str | None = None  # ``describe`` says it (``history`` does not)


@dataclass(frozen=True)
class VersionView:
    """A ``stack_versions`` row as ``history`` and ``get versions`` tables show it (the fields of
    ``controller.models.StackVersion`` it reads; the status is its plain value)."""

    version: str
    parent_version: str | None
    digest: str
    status: str
    metadata: MetadataView


_TEXTS = (
    "source",
    "comment",
    "git_subject",
    "git_commit",
    "git_repository",
    "git_ref",
    "git_author",
)


def list_versions(path: Path, stack_id: str) -> list[VersionView] | None:
    """The stack's versions, oldest first, or ``None`` when ``Database`` (and the models) must
    read them instead: a metadata document this view does not vouch for (a field missing or
    of another type, a time not in UTC's ``Z`` form) included."""
    rows = _read(
        path,
        "SELECT version, parent_version, digest, status, metadata FROM stack_versions"
        " WHERE stack_id = ? ORDER BY version_number",
        (stack_id,),
    )
    if rows is None:
        return None
    views = []
    for version, parent, digest, status, metadata in rows:
        shown = _metadata(metadata)
        if shown is None:
            return None
        views.append(VersionView(version, parent, digest, status, shown))
    return views


def metadata_view(document: str) -> MetadataView | None:
    """A version's stored metadata as ``MetadataView``, or ``None`` when this view does not
    vouch for it (see ``list_versions``)."""
    return _metadata(document)


def _metadata(document: str) -> MetadataView | None:
    try:
        fields = json.loads(document)
    except ValueError:
        return None
    created_at, created_by = fields.get("created_at"), fields.get("created_by")
    texts = {name: fields.get(name) for name in _TEXTS}
    if not (isinstance(created_at, str) and created_at.endswith("Z")):
        return None
    if not isinstance(created_by, str) or any(
        v is not None and not isinstance(v, str) for v in texts.values()
    ):
        return None
    try:
        moment = datetime.fromisoformat(created_at)
    except ValueError:
        return None
    return MetadataView(created_at=moment, created_by=created_by, **texts)


def stack_target(path: Path, stack_id: str) -> tuple[str | None, list[str]] | None:
    """The engine the stack's desired version (else its applied one) targets and that
    version's services, as ``stackctl ps`` and ``logs`` read them (``cli/targets.py``):
    ``(None, [])`` when there is no such stack or version; ``None`` when ``Database`` and the
    models must read it instead (a ``services`` that is not a mapping included)."""
    rows = _read(
        path,
        f"SELECT {engine_sql('v')}, json_type(v.compose_spec, '$.services'),"
        " (SELECT json_group_array(key) FROM json_each(v.compose_spec, '$.services'))"
        " FROM stacks s LEFT JOIN stack_versions v ON v.stack_id = s.stack_id"
        " AND v.version = COALESCE(s.current_version, s.applied_version)"
        " WHERE s.stack_id = ?",
        (stack_id,),
    )
    if rows is None:
        return None
    if not rows:
        return None, []
    engine, kind, services = rows[0]
    if kind not in (None, "object"):
        return None
    return engine, json.loads(services) if engine is not None else []
