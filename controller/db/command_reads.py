"""The queue's reads: a command, a filtered page of them, and the small questions the
controller asks (is a newer APPLY queued, each stack's newest command, counts by status).

``CommandRepository`` (``queue.py``) inherits them; its writes are the queue's rules, these
only look. ``command_of`` turns a row into a ``Command`` for both.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING

from controller.db.rows import Page, json_from_db, keyset_page, storable_id, ts_from_db, ts_to_db
from controller.models.command import Command
from controller.models.enums import CommandStatus, CommandType
from controller.models.errors import NotFoundError

if TYPE_CHECKING:
    from controller.db.access import DatabaseAccess


class CommandReads:
    _db: DatabaseAccess

    def cancel_requested(self, command_id: int) -> str | None:
        """Why the RUNNING command was asked to stop, or ``None``."""
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT cancel_requested FROM commands WHERE command_id = ?", (command_id,)
            ).fetchone()
        return None if row is None else row[0]

    def get_next_pending(self) -> Command | None:
        """The command ``claim`` would take next, without taking it."""
        now = ts_to_db(self._db.clock())
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT * FROM commands INDEXED BY idx_commands_claim WHERE status = 'PENDING'"
                " AND (not_before IS NULL OR not_before <= ?)"
                " ORDER BY created_at, command_id LIMIT 1",
                (now,),
            ).fetchone()
        return None if row is None else command_of(row)

    def next_not_before(self) -> datetime | None:
        """When the soonest PENDING command held back (a retry's backoff) is due, if any."""
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT MIN(not_before) FROM commands WHERE status = 'PENDING'"
                " AND not_before > ?",
                (ts_to_db(self._db.clock()),),
            ).fetchone()
        return ts_from_db(row[0])

    def get(self, command_id: int) -> Command | None:
        if not storable_id(command_id):
            return None  # beyond SQLite's integers: no such command (binding it would overflow)
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT * FROM commands WHERE command_id = ?", (command_id,)
            ).fetchone()
        return None if row is None else command_of(row)

    def require(self, command_id: int) -> Command:
        command = self.get(command_id)
        if command is None:
            raise NotFoundError(f"no command {command_id}")
        return command

    def list(
        self,
        *,
        stack_id: str | None = None,
        status: CommandStatus | str | None = None,
        type: CommandType | str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Command]:
        """Newest first, filtered; pass ``next_cursor`` back to get the following page."""
        filters = {
            "stack_id": stack_id,
            "status": None if status is None else CommandStatus(status).value,
            "type": None if type is None else CommandType(type).value,
        }
        with self._db.reading() as conn:
            return keyset_page(
                conn,
                table="commands",
                key="command_id",
                filters=filters,
                limit=limit,
                cursor=cursor,
                to_item=command_of,
            )

    def pending_after(self, stack_id: str, command_id: int, *, type: CommandType) -> bool:
        """Whether ``stack_id`` has a PENDING command of ``type`` queued after ``command_id``."""
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT 1 FROM commands INDEXED BY idx_commands_stack_status"
                " WHERE stack_id = ? AND type = ? AND status = 'PENDING'"
                " AND command_id > ? LIMIT 1",
                (stack_id, type.value, command_id),
            ).fetchone()
        return row is not None

    def newest_by_stack(self) -> dict[str, tuple[CommandType, CommandStatus]]:
        """The type and status of each stack's newest command (one query)."""
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT stack_id, type, status FROM commands WHERE command_id IN"
                " (SELECT MAX(command_id) FROM commands GROUP BY stack_id)"
            ).fetchall()
        return {row[0]: (CommandType(row[1]), CommandStatus(row[2])) for row in rows}

    def count_by_status(self) -> dict[CommandStatus, int]:
        with self._db.reading() as conn:
            rows = conn.execute("SELECT status, COUNT(*) FROM commands GROUP BY status").fetchall()
        return {CommandStatus(row[0]): row[1] for row in rows}


def command_of(row: sqlite3.Row) -> Command:
    """The row as a ``Command``. Timestamps are parsed here (``fromisoformat``); the rest is
    validated by pydantic's compiled validator, which costs less than ``model_construct``
    (9 us against 15 us of CPU a command on pydantic 2.14: ``model_construct`` loops over the
    fields in Python) and keeps the model's checks."""
    return Command.model_validate(
        {
            "command_id": row["command_id"],
            "stack_id": row["stack_id"],
            "type": row["type"],
            "payload": json_from_db(row["payload"]),
            "status": row["status"],
            "created_at": ts_from_db(row["created_at"]),
            "started_at": ts_from_db(row["started_at"]),
            "ended_at": ts_from_db(row["ended_at"]),
            "attempts": row["attempts"],
            "not_before": ts_from_db(row["not_before"]),
            "worker_id": row["worker_id"],
            "lease_expires_at": ts_from_db(row["lease_expires_at"]),
            "error": row["error"],
            "failures": row["failures"],
            "cancel_requested": row["cancel_requested"],
        }
    )
