"""``StackVersionRepository``: immutable versions ``v1, v2, ...`` per stack.

Each method is one transaction; errors come out as project errors (``ConflictError``,
``NotFoundError``) with the database left unchanged. Only a version's status, runtime mapping
and ``healthy_at`` (when it was last seen applied and Healthy) ever change.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING, Any

from controller.db.plain_reads import engine_sql
from controller.db.rows import json_from_db, json_to_db, translate, ts_from_db, ts_to_db
from controller.models.enums import VersionStatus
from controller.models.errors import ConflictError, NotFoundError
from controller.models.stack_version import (
    ComposeDefinition,
    StackMetadata,
    StackVersion,
    VersionHead,
    VersionOrigin,
    version_number,
)

if TYPE_CHECKING:
    from controller.db.access import DatabaseAccess
    from controller.db.stacks import StackRepository


class StackVersionRepository:
    """Immutable versions ``v1, v2, ...`` per stack, and their status and runtime mapping."""

    def __init__(self, db: DatabaseAccess, *, stacks: StackRepository) -> None:
        self._db = db
        self._stacks = stacks

    def create(self, version: StackVersion, *, make_current: bool = True) -> StackVersion:
        """Record a version; returns it with its label, parent and digest filled in.

        ``version.version=None`` takes the next label; a given label must be exactly the next
        one. ``parent_version=None`` means "the latest version" (``None`` for ``v1``); a given
        parent must exist. ``make_current`` also makes it the stack's desired version.
        """
        doing = f"recording a version of stack {version.stack_id!r}"
        try:
            with self._db.transaction() as conn:
                if not self._stacks.exists(version.stack_id):
                    raise NotFoundError(f"{doing}: no stack named {version.stack_id!r}")
                stored, number = _labelled(conn, version, doing=doing)
                _insert(conn, stored, number=number)
                if make_current:
                    self._stacks.set_current_version(stored.stack_id, stored.version)
                return stored
        except sqlite3.IntegrityError as e:
            raise translate(e, doing=doing) from e

    def get(self, stack_id: str, version: str) -> StackVersion | None:
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT * FROM stack_versions WHERE stack_id = ? AND version = ?",
                (stack_id, version),
            ).fetchone()
        return None if row is None else _version(row)

    def require(self, stack_id: str, version: str) -> StackVersion:
        found = self.get(stack_id, version)
        if found is None:
            raise NotFoundError(f"stack {stack_id!r} has no version {version}")
        return found

    def latest(self, stack_id: str) -> StackVersion | None:
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT * FROM stack_versions WHERE stack_id = ?"
                " ORDER BY version_number DESC LIMIT 1",
                (stack_id,),
            ).fetchone()
        return None if row is None else _version(row)

    def latest_digest(self, stack_id: str) -> str | None:
        """The digest of the stack's latest version (None: it has none), no model built."""
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT digest FROM stack_versions WHERE stack_id = ?"
                " ORDER BY version_number DESC LIMIT 1",
                (stack_id,),
            ).fetchone()
        return None if row is None else row[0]

    def heads(self) -> dict[str, VersionHead]:
        """Every stack's latest version, light: label, digest, source and root (one query,
        no compose definition parsed; the watcher asks this on every pass)."""
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT v.stack_id, v.version, v.digest,"
                " json_extract(v.metadata, '$.source') AS source,"
                " json_extract(v.metadata, '$.root') AS root"
                " FROM stack_versions v JOIN ("
                "   SELECT stack_id, MAX(version_number) AS n FROM stack_versions"
                "   GROUP BY stack_id"
                " ) latest ON v.stack_id = latest.stack_id AND v.version_number = latest.n"
            ).fetchall()
        return {
            row["stack_id"]: VersionHead(
                row["stack_id"], row["version"], row["digest"], row["source"], row["root"]
            )
            for row in rows
        }

    def origins(self) -> dict[str, VersionOrigin]:
        """Every stack's latest version: its label and where it came from (file, repository,
        ref, commit), in one query, no JSON parsed in Python (the console's table)."""
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT v.stack_id, v.version,"
                " json_extract(v.metadata, '$.source') AS source,"
                " json_extract(v.metadata, '$.git_repository') AS git_repository,"
                " json_extract(v.metadata, '$.git_ref') AS git_ref,"
                " json_extract(v.metadata, '$.git_commit') AS git_commit"
                " FROM stack_versions v JOIN ("
                "   SELECT stack_id, MAX(version_number) AS n FROM stack_versions"
                "   GROUP BY stack_id"
                " ) latest ON v.stack_id = latest.stack_id AND v.version_number = latest.n"
            ).fetchall()
        return {
            row["stack_id"]: VersionOrigin(
                row["version"],
                row["source"],
                row["git_repository"],
                row["git_ref"],
                row["git_commit"],
            )
            for row in rows
        }

    def notify_settings(self, stack_id: str, version: str) -> list[Any] | None:
        """The ``notify`` targets a version's document holds (its ``x-stackctl`` settings), as
        stored (``[]``: none), or ``None`` when there is no such version: what the sender
        routes by, without rebuilding and checking the whole model for each new version."""
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT json_extract(compose_spec, '$.\"x-stackctl\".notify')"
                " FROM stack_versions WHERE stack_id = ? AND version = ?",
                (stack_id, version),
            ).fetchone()
        if row is None:
            return None
        found = json.loads(row[0]) if isinstance(row[0], str) else []
        return found if isinstance(found, list) else []

    def engines(self) -> dict[str, str]:
        """The engine each stack's desired version targets (``local`` unless its settings name
        another; ``controller.sources.versions.version_engine``), by stack id, in one query, no
        compose
        definition parsed; a stack with no desired version is not in it."""
        with self._db.reading() as conn:
            rows = conn.execute(
                f"SELECT s.stack_id, {engine_sql('v')} AS engine"
                " FROM stacks s JOIN stack_versions v"
                " ON v.stack_id = s.stack_id AND v.version = s.current_version"
            ).fetchall()
        return {row["stack_id"]: row["engine"] for row in rows}

    def list(self, stack_id: str) -> list[StackVersion]:
        """Oldest first."""
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT * FROM stack_versions WHERE stack_id = ? ORDER BY version_number",
                (stack_id,),
            ).fetchall()
        return [_version(row) for row in rows]

    def set_status(
        self,
        stack_id: str,
        version: str,
        status: VersionStatus,
        *,
        runtime: dict[str, list[str]] | None = None,
    ) -> StackVersion:
        """The only mutable part of a version: its status and, optionally, its runtime mapping."""
        with self._db.transaction() as conn:
            self.require(stack_id, version)
            if runtime is None:
                conn.execute(
                    "UPDATE stack_versions SET status = ? WHERE stack_id = ? AND version = ?",
                    (VersionStatus(status).value, stack_id, version),
                )
            else:
                conn.execute(
                    "UPDATE stack_versions SET status = ?, runtime = ?"
                    " WHERE stack_id = ? AND version = ?",
                    (VersionStatus(status).value, json_to_db(runtime), stack_id, version),
                )
            return self.require(stack_id, version)

    def mark_healthy(self, stack_id: str, version: str, *, at: datetime) -> None:
        """The version was seen applied and Healthy at ``at``."""
        with self._db.transaction() as conn:
            self.require(stack_id, version)
            conn.execute(
                "UPDATE stack_versions SET healthy_at = ? WHERE stack_id = ? AND version = ?",
                (ts_to_db(at), stack_id, version),
            )

    def last_healthy(self, stack_id: str, *, before: str | None = None) -> StackVersion | None:
        """The newest version that was ever seen applied and Healthy, older than ``before``
        when given: what an automatic rollback goes back to."""
        below = version_number(before) if before is not None else None
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT * FROM stack_versions WHERE stack_id = ? AND healthy_at IS NOT NULL"
                " AND (? IS NULL OR version_number < ?)"
                " ORDER BY version_number DESC LIMIT 1",
                (stack_id, below, below),
            ).fetchone()
        return None if row is None else _version(row)


def _labelled(
    conn: sqlite3.Connection, version: StackVersion, *, doing: str
) -> tuple[StackVersion, int]:
    """The version as it is stored: the next label, its parent and digest filled in, and its
    number. Refuses a given label that is not the next one or a parent that does not exist."""
    latest = (
        conn.execute(
            "SELECT MAX(version_number) FROM stack_versions WHERE stack_id = ?",
            (version.stack_id,),
        ).fetchone()[0]
        or 0
    )
    number = latest + 1
    if version.version is not None and version.number != number:
        raise ConflictError(
            f"{doing}: version {version.version} is out of order, the next is v{number}"
        )
    parent = version.parent_version or (f"v{latest}" if latest else None)
    if parent is not None and version_number(parent) > latest:
        raise ConflictError(f"{doing}: parent version {parent} does not exist")
    stored = version.model_copy(
        update={
            "version": f"v{number}",
            "parent_version": parent,
            "digest": version.digest or version.compose.digest(),
        }
    )
    return stored, number


# The engine and the declared suspension a version's document says (schema 12's columns),
# worked out by SQLite from the document being inserted, as the migration worked them out.
_SETTING = "'$.\"x-stackctl\".{}'"
_INSERTED_ENGINE = (
    f"CASE WHEN json_type(:spec, {_SETTING.format('target.engine')}) = 'text'"
    f" AND json_extract(:spec, {_SETTING.format('target.engine')}) <> ''"
    f" THEN json_extract(:spec, {_SETTING.format('target.engine')}) ELSE 'local' END"
)
_INSERTED_DECLARED = f"(coalesce(json_extract(:spec, {_SETTING.format('suspend')}), 0) = 1)"
_INSERT = (
    "INSERT INTO stack_versions (stack_id, version_number, version, parent_version, digest,"
    " compose_spec, metadata, created_at, status, runtime, engine, suspend_declared)"
    " VALUES (:stack_id, :number, :version, :parent, :digest, :spec, :metadata, :created_at,"
    f" :status, :runtime, {_INSERTED_ENGINE}, {_INSERTED_DECLARED})"
)


def _insert(conn: sqlite3.Connection, stored: StackVersion, *, number: int) -> None:
    conn.execute(
        _INSERT,
        {
            "stack_id": stored.stack_id,
            "number": number,
            "version": stored.version,
            "parent": stored.parent_version,
            "digest": stored.digest,
            "spec": stored.compose.canonical_json(),
            "metadata": stored.metadata.model_dump_json(),
            "created_at": ts_to_db(stored.metadata.created_at),
            "status": stored.status.value,
            "runtime": json_to_db(stored.runtime),
        },
    )


def _version(row: sqlite3.Row) -> StackVersion:
    return StackVersion(
        stack_id=row["stack_id"],
        version=row["version"],
        parent_version=row["parent_version"],
        digest=row["digest"],
        metadata=StackMetadata.model_validate_json(row["metadata"]),
        compose=ComposeDefinition.model_validate_json(row["compose_spec"]),
        status=row["status"],
        runtime=json_from_db(row["runtime"]),
        healthy_at=ts_from_db(row["healthy_at"]),
    )
