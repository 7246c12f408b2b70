"""``StackRepository``: the ``stacks`` table, one row per stack and its status fields.

A stack reads with its desired version's suspension joined (``controller.db.suspension``):
suspended by the operator or by its manifest, its sync and health read ``Suspended``.

Each method is one transaction; errors come out as project errors (``ConflictError``,
``NotFoundError``) with the database left unchanged.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from controller.db.rows import json_from_db, translate, ts_from_db, ts_to_db
from controller.db.suspension import STACK_COLUMNS, STACK_FROM
from controller.models.enums import HealthStatus, Suspension, SyncStatus
from controller.models.errors import ConflictError, NotFoundError
from controller.models.stack import Stack

if TYPE_CHECKING:
    from controller.db.access import DatabaseAccess

_UNSET: Any = object()


class StackRepository:
    def __init__(self, db: DatabaseAccess) -> None:
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
                        int(Suspension.OPERATOR in stack.suspended_by),
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

    def current_versions(self) -> dict[str, str | None]:
        """Each stack's desired version (``None``: none), by id, in one query and no model
        (the watcher's every pass)."""
        with self._db.reading() as conn:
            rows = conn.execute("SELECT stack_id, current_version FROM stacks").fetchall()
        return {row[0]: row[1] for row in rows}

    def labels(self, stack_id: str | None = None) -> dict[str, dict[str, str]]:
        """Each stack's labels (``metadata.labels`` of its desired version; ``{}`` without one),
        by id, or the one stack's: what an access grant's selector matches."""
        where = "" if stack_id is None else " WHERE s.stack_id = ?"
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT s.stack_id,"
                " json_extract(v.compose_spec, '$.\"x-stackctl\".labels') AS labels"
                " FROM stacks s LEFT JOIN stack_versions v"
                " ON v.stack_id = s.stack_id AND v.version = s.current_version" + where,
                () if stack_id is None else (stack_id,),
            ).fetchall()
        return {row[0]: _labels(row[1]) for row in rows}

    def get(self, stack_id: str) -> Stack | None:
        with self._db.reading() as conn:
            row = conn.execute(
                f"SELECT {STACK_COLUMNS} FROM {STACK_FROM} WHERE s.stack_id = ?", (stack_id,)
            ).fetchone()
        return None if row is None else _stack(row)

    def require(self, stack_id: str) -> Stack:
        stack = self.get(stack_id)
        if stack is None:
            raise NotFoundError(f"no stack named {stack_id!r}")
        return stack

    def exists(self, stack_id: str) -> bool:
        with self._db.reading() as conn:
            row = conn.execute("SELECT 1 FROM stacks WHERE stack_id = ?", (stack_id,)).fetchone()
        return row is not None

    def current_version(self, stack_id: str) -> str | None:
        """The stack's desired version, read alone (no row model built: recording thousands
        of versions asks it once each)."""
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT current_version FROM stacks WHERE stack_id = ?", (stack_id,)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no stack named {stack_id!r}")
        return row[0]

    def set_current_version(self, stack_id: str, version: str) -> None:
        """``update(stack_id, current_version=version)`` without reading the row before and
        after (a version being recorded, in its transaction)."""
        with self._db.transaction() as conn:
            done = conn.execute(
                "UPDATE stacks SET current_version = ?, updated_at = ? WHERE stack_id = ?",
                (version, ts_to_db(self._db.clock()), stack_id),
            )
            if done.rowcount == 0:
                raise NotFoundError(f"no stack named {stack_id!r}")

    def list(self) -> list[Stack]:
        with self._db.reading() as conn:
            rows = conn.execute(
                f"SELECT {STACK_COLUMNS} FROM {STACK_FROM} ORDER BY s.stack_id"
            ).fetchall()
        return [_stack(row) for row in rows]

    def change_marker(self) -> str:
        """A short text that changes whenever any stack row or any stack's versions change
        (a stack's update bumps ``updated_at``; a recorded version adds a row): the console's
        table is re-sent only when it differs. One query over two small aggregates."""
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) || '/' || ifnull(max(updated_at), '') FROM stacks)"
                " || '/' || (SELECT count(*) FROM stack_versions) AS marker"
            ).fetchone()
        return str(row["marker"])

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
        """Change the given status fields (the others stay as they are). ``suspended`` is the
        operator's flag (``stackctl suspend``/``resume``); a ``Suspended`` sync status is only
        ever read, and refused here by the schema."""
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
        suspended_by=tuple(
            who
            for who, on in (
                (Suspension.OPERATOR, row["suspended"]),
                (Suspension.MANIFEST, row["suspend_declared"]),
            )
            if on
        ),
        pinned=bool(row["pinned"]),
        last_error=row["last_error"],
        created_at=ts_from_db(row["created_at"]),
        updated_at=ts_from_db(row["updated_at"]),
    )


def _labels(text: str | None) -> dict[str, str]:
    value = json_from_db(text) if text else None
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}
