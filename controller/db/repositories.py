"""Repositories: every read and write of stacks, versions, logs and events.

Each method is one transaction; errors come out as project errors (``ConflictError``,
``NotFoundError``) with the database left unchanged. The queue's repository is in ``commands.py``
and re-exported here.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from controller.db.commands import CommandRepository
from controller.db.rows import (
    MAX_ID,
    Page,
    json_from_db,
    json_to_db,
    keyset_page,
    storable_id,
    translate,
    ts_from_db,
    ts_to_db,
)
from controller.errors import ConflictError, NotFoundError
from controller.models.command import CommandLog
from controller.models.enums import HealthStatus, LogLevel, SyncStatus, VersionStatus
from controller.models.event import Event
from controller.models.stack import Stack
from controller.models.stack_version import (
    ComposeDefinition,
    StackMetadata,
    StackVersion,
    VersionHead,
    version_number,
)

if TYPE_CHECKING:
    from controller.db.database import Database

__all__ = [
    "CommandLogRepository",
    "CommandRepository",
    "EventRepository",
    "Page",
    "StackRepository",
    "StackVersionRepository",
]

_UNSET: Any = object()


class StackRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, stack: Stack) -> Stack:
        try:
            with self._db.transaction() as conn:
                conn.execute(
                    "INSERT INTO stacks (stack_id, name, current_version, applied_version,"
                    " sync_status, health_status, suspended, pinned, last_error, created_at,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        stack.stack_id,
                        stack.name,
                        stack.current_version,
                        stack.applied_version,
                        stack.sync_status.value,
                        stack.health_status.value,
                        int(stack.suspended),
                        int(stack.pinned),
                        stack.last_error,
                        ts_to_db(stack.created_at),
                        ts_to_db(stack.updated_at),
                    ),
                )
        except sqlite3.IntegrityError as e:
            if self.get(stack.stack_id) is not None:
                raise ConflictError(f"stack {stack.stack_id!r} already exists") from e
            raise translate(e, doing=f"creating stack {stack.stack_id!r}") from e
        return stack

    def get(self, stack_id: str) -> Stack | None:
        with self._db.reading() as conn:
            row = conn.execute("SELECT * FROM stacks WHERE stack_id = ?", (stack_id,)).fetchone()
        return None if row is None else _stack(row)

    def require(self, stack_id: str) -> Stack:
        stack = self.get(stack_id)
        if stack is None:
            raise NotFoundError(f"no stack named {stack_id!r}")
        return stack

    def list(self) -> list[Stack]:
        with self._db.reading() as conn:
            rows = conn.execute("SELECT * FROM stacks ORDER BY stack_id").fetchall()
        return [_stack(row) for row in rows]

    def update(
        self,
        stack_id: str,
        *,
        current_version: str | None = _UNSET,
        applied_version: str | None = _UNSET,
        sync_status: SyncStatus = _UNSET,
        health_status: HealthStatus = _UNSET,
        suspended: bool = _UNSET,
        pinned: bool = _UNSET,
        last_error: str | None = _UNSET,
    ) -> Stack:
        """Change the given status fields (the others stay as they are)."""
        given = {
            "current_version": current_version,
            "applied_version": applied_version,
            "sync_status": sync_status,
            "health_status": health_status,
            "suspended": suspended,
            "pinned": pinned,
            "last_error": last_error,
        }
        changes = {name: _column(value) for name, value in given.items() if value is not _UNSET}
        changes["updated_at"] = ts_to_db(self._db.clock())
        sets = ", ".join(f"{name} = ?" for name in changes)
        try:
            with self._db.transaction() as conn:
                self.require(stack_id)
                conn.execute(
                    f"UPDATE stacks SET {sets} WHERE stack_id = ?", (*changes.values(), stack_id)
                )
                return self.require(stack_id)
        except sqlite3.IntegrityError as e:
            raise translate(e, doing=f"updating stack {stack_id!r}") from e

    def delete(self, stack_id: str) -> None:
        """Remove the stack with its versions, commands and their logs (cascade)."""
        with self._db.transaction() as conn:
            if conn.execute("DELETE FROM stacks WHERE stack_id = ?", (stack_id,)).rowcount == 0:
                raise NotFoundError(f"no stack named {stack_id!r}")


def _column(value: Any) -> Any:
    """bools as 0/1, enums by value; a bad status string is left for the CHECK to refuse."""
    if isinstance(value, bool):
        return int(value)
    return value.value if isinstance(value, SyncStatus | HealthStatus) else value


def _stack(row: sqlite3.Row) -> Stack:
    return Stack(
        stack_id=row["stack_id"],
        name=row["name"],
        current_version=row["current_version"],
        applied_version=row["applied_version"],
        sync_status=row["sync_status"],
        health_status=row["health_status"],
        suspended=bool(row["suspended"]),
        pinned=bool(row["pinned"]),
        last_error=row["last_error"],
        created_at=ts_from_db(row["created_at"]),
        updated_at=ts_from_db(row["updated_at"]),
    )


class StackVersionRepository:
    """Immutable versions ``v1, v2, ...`` per stack, and their status and runtime mapping."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, version: StackVersion, *, make_current: bool = True) -> StackVersion:
        """Record a version; returns it with its label, parent and digest filled in.

        ``version.version=None`` takes the next label; a given label must be exactly the next
        one. ``parent_version=None`` means "the latest version" (``None`` for ``v1``); a given
        parent must exist. ``make_current`` also makes it the stack's desired version.
        """
        doing = f"recording a version of stack {version.stack_id!r}"
        try:
            with self._db.transaction() as conn:
                if self._db.stacks.get(version.stack_id) is None:
                    raise NotFoundError(f"{doing}: no stack named {version.stack_id!r}")
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
                conn.execute(
                    "INSERT INTO stack_versions (stack_id, version_number, version,"
                    " parent_version, digest, compose_spec, metadata, created_at, status, runtime)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        stored.stack_id,
                        number,
                        stored.version,
                        stored.parent_version,
                        stored.digest,
                        stored.compose.canonical_json(),
                        stored.metadata.model_dump_json(),
                        ts_to_db(stored.metadata.created_at),
                        stored.status.value,
                        json_to_db(stored.runtime),
                    ),
                )
                if make_current:
                    self._db.stacks.update(stored.stack_id, current_version=stored.version)
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
    )


class CommandLogRepository:
    """Log lines of a command's attempts; never updated, removed only with their command."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add_log(
        self,
        command_id: int,
        level: LogLevel | str,
        message: str,
        data: dict[str, Any] | None = None,
    ) -> CommandLog:
        log = CommandLog(
            command_id=command_id, ts=self._db.clock(), level=level, message=message, data=data
        )
        try:
            with self._db.transaction() as conn:
                cursor = conn.execute(
                    "INSERT INTO command_logs (command_id, ts, level, message, data)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        command_id,
                        ts_to_db(log.ts),
                        log.level.value,
                        message,
                        None if data is None else json_to_db(data),
                    ),
                )
        except sqlite3.IntegrityError as e:
            raise NotFoundError(f"cannot log to command {command_id}: no such command") from e
        return log.model_copy(update={"log_id": cursor.lastrowid})

    def list(self, command_id: int, *, after_id: int = 0) -> list[CommandLog]:
        """Lines in order; ``after_id`` returns only newer lines (to follow a command)."""
        if not storable_id(command_id):
            return []
        after_id = max(min(after_id, MAX_ID), -MAX_ID - 1)
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT * FROM command_logs WHERE command_id = ? AND log_id > ? ORDER BY log_id",
                (command_id, after_id),
            ).fetchall()
        return [
            CommandLog(
                log_id=row["log_id"],
                command_id=row["command_id"],
                ts=ts_from_db(row["ts"]),
                level=row["level"],
                message=row["message"],
                data=json_from_db(row["data"]),
            )
            for row in rows
        ]


class EventRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, event: Event) -> Event:
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO events (stack_id, ts, level, reason, message, data)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    event.stack_id,
                    ts_to_db(event.ts),
                    event.level.value,
                    event.reason,
                    event.message,
                    None if event.data is None else json_to_db(event.data),
                ),
            )
        return event.model_copy(update={"event_id": cursor.lastrowid})

    def list(
        self, *, stack_id: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> Page[Event]:
        """Newest first."""
        with self._db.reading() as conn:
            return keyset_page(
                conn,
                table="events",
                key="event_id",
                filters={"stack_id": stack_id},
                limit=limit,
                cursor=cursor,
                to_item=_event,
            )


def _event(row: sqlite3.Row) -> Event:
    return Event(
        event_id=row["event_id"],
        stack_id=row["stack_id"],
        ts=ts_from_db(row["ts"]),
        level=row["level"],
        reason=row["reason"],
        message=row["message"],
        data=json_from_db(row["data"]),
    )
