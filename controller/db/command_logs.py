"""``CommandLogRepository``: the log lines of a command's attempts.

Lines are never updated and go only with their command (cascade).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from controller.db.rows import MAX_ID, json_from_db, json_to_db, storable_id, ts_from_db, ts_to_db
from controller.models.command import CommandLog
from controller.models.enums import LogLevel
from controller.models.errors import NotFoundError

if TYPE_CHECKING:
    from controller.db.access import DatabaseAccess


class CommandLogRepository:
    """Log lines of a command's attempts; never updated, removed only with their command."""

    def __init__(self, db: DatabaseAccess) -> None:
        self._db = db

    # ``level, message`` stay positional, as in ``logging.Logger.log(level, msg)``.
    def add(
        self,
        command_id: int,
        level: LogLevel | str,
        message: str,
        *,
        data: dict[str, Any] | None = None,
    ) -> CommandLog:
        """Append one line to the command's log (``NotFoundError`` for an unknown command)."""
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

    def add_log(
        self,
        command_id: int,
        level: LogLevel | str,
        message: str,
        data: dict[str, Any] | None = None,
    ) -> CommandLog:
        """``add`` under the name the seed examples call (tests/db/test_seed_examples_...)."""
        return self.add(command_id, level, message, data=data)

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
