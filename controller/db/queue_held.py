"""A worker's changes to the commands it holds: renew the lease, finish, fail, retry later,
give way, give back, end a cancelled one.

Every change is one ``UPDATE ... RETURNING`` whose WHERE says RUNNING and held by this worker:
no row back means the lease was lost (``ConflictError``), and the row back is the command's new
state (no second read). ``CommandRepository`` (``queue.py``) inherits these.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from controller.db.command_reads import CommandReads, command_of
from controller.db.rows import json_to_db, ts_to_db
from controller.models.command import Command
from controller.models.enums import CommandStatus, LogLevel
from controller.models.errors import ConflictError

if TYPE_CHECKING:
    from controller.db.command_logs import CommandLogRepository

DEFAULT_LEASE_SECONDS = 30.0

# A change to a command this worker holds: RUNNING and, when a worker is named, its own.
_HELD = " WHERE command_id = ? AND status = 'RUNNING' AND (? IS NULL OR worker_id = ?) RETURNING *"
_DONE = (
    "UPDATE commands SET status = 'DONE', ended_at = ?, error = NULL, lease_expires_at = NULL"
    + _HELD
)
_FAILED = (
    "UPDATE commands SET status = 'FAILED', ended_at = ?, error = ?, failures = failures + 1,"
    " lease_expires_at = NULL" + _HELD
)


class HeldCommands(CommandReads):
    """The lease holder's side of the queue (``_db`` and ``_logs`` are set by the repository)."""

    _logs: CommandLogRepository

    def cancel_running(self, command_id: int, *, worker_id: str | None = None) -> Command:
        """The worker's end of a cancel request: RUNNING -> CANCELLED with the request's reason."""
        with self._db.transaction() as conn:
            return self._update_held(
                conn,
                "UPDATE commands SET status = 'CANCELLED', ended_at = ?,"
                " error = COALESCE(cancel_requested, 'cancelled'), lease_expires_at = NULL" + _HELD,
                (ts_to_db(self._db.clock()),),
                command_id=command_id,
                worker_id=worker_id,
            )

    def release(self, command_id: int, *, worker_id: str) -> Command:
        """Give back a command claimed ahead and never started (its worker is stopping): PENDING
        again as if it had not been claimed, its attempt not counted. ``ConflictError`` if
        ``worker_id`` does not hold it."""
        with self._db.transaction() as conn:
            return self._update_held(
                conn,
                "UPDATE commands SET status = 'PENDING', attempts = max(attempts - 1, 0),"
                " worker_id = NULL, lease_expires_at = NULL" + _HELD,
                (),
                command_id=command_id,
                worker_id=worker_id,
            )

    def renew_lease(
        self, command_id: int, *, worker_id: str, lease_seconds: float = DEFAULT_LEASE_SECONDS
    ) -> Command:
        """Extend the lease; ``ConflictError`` if the worker no longer holds it."""
        until = self._db.clock() + timedelta(seconds=lease_seconds)
        with self._db.transaction() as conn:
            return self._update_held(
                conn,
                "UPDATE commands SET lease_expires_at = ?" + _HELD,
                (ts_to_db(until),),
                command_id=command_id,
                worker_id=worker_id,
            )

    def complete(self, command_id: int, *, worker_id: str | None = None) -> Command:
        """RUNNING -> DONE; ``ConflictError`` if ``worker_id`` no longer holds the command."""
        with self._db.transaction() as conn:
            return self._complete_in(conn, command_id, worker_id=worker_id, now=self._db.clock())

    def _complete_in(
        self, conn: sqlite3.Connection, command_id: int, *, worker_id: str | None, now: datetime
    ) -> Command:
        """RUNNING -> DONE inside the caller's transaction."""
        return command_of(self._complete_row(conn, command_id, worker_id=worker_id, now=now))

    def _complete_row(
        self, conn: sqlite3.Connection, command_id: int, *, worker_id: str | None, now: datetime
    ) -> sqlite3.Row:
        """RUNNING -> DONE inside the caller's transaction, the row as it is now
        (``complete_and_claim`` batches it and makes the model only when asked)."""
        return self._update_held_row(
            conn, _DONE, (ts_to_db(now),), command_id=command_id, worker_id=worker_id
        )

    def fail(self, command_id: int, *, error: str, worker_id: str | None = None) -> Command:
        """RUNNING -> FAILED with ``error``; ``ConflictError`` as for ``complete``."""
        with self._db.transaction() as conn:
            return self._update_held(
                conn,
                _FAILED,
                (ts_to_db(self._db.clock()), error),
                command_id=command_id,
                worker_id=worker_id,
            )

    def retry_later(
        self,
        command_id: int,
        *,
        delay: float,
        error: str,
        worker_id: str | None = None,
        failed: bool = True,
    ) -> Command:
        """Back to PENDING, not to be claimed for ``delay`` seconds (a transient failure, or,
        with ``failed=False``, an attempt interrupted by a shutdown: not counted as a failure)."""
        not_before = self._db.clock() + timedelta(seconds=delay)
        with self._db.transaction() as conn:
            retried = self._update_held(
                conn,
                "UPDATE commands SET status = 'PENDING', not_before = ?, error = ?,"
                " failures = failures + ?, worker_id = NULL, lease_expires_at = NULL" + _HELD,
                (ts_to_db(not_before), error, int(failed)),
                command_id=command_id,
                worker_id=worker_id,
            )
            self._logs.add(command_id, LogLevel.WARNING, f"will retry in {delay:.1f}s: {error}")
            return retried

    def give_way(
        self,
        command_id: int,
        *,
        delay: float,
        payload: Mapping[str, Any],
        note: str,
        worker_id: str | None = None,
    ) -> Command:
        """Back to PENDING for ``delay`` seconds, not a failure, with ``payload`` (what its
        next turn needs) and ``note`` in its log: a wait gave its worker to waiting work."""
        not_before = self._db.clock() + timedelta(seconds=delay)
        with self._db.transaction() as conn:
            requeued = self._update_held(
                conn,
                "UPDATE commands SET status = 'PENDING', not_before = ?, payload = ?,"
                " worker_id = NULL, lease_expires_at = NULL" + _HELD,
                (ts_to_db(not_before), json_to_db(dict(payload))),
                command_id=command_id,
                worker_id=worker_id,
            )
            self._logs.add(command_id, LogLevel.INFO, note)
            return requeued

    def _update_held(
        self,
        conn: sqlite3.Connection,
        sql: str,
        values: tuple[Any, ...],
        *,
        command_id: int,
        worker_id: str | None,
    ) -> Command:
        """Run ``sql`` (an UPDATE ending in ``_HELD``) and return the changed command; when no
        row matched, say why: ``NotFoundError``, or ``ConflictError`` (not RUNNING, or held by
        another worker since its lease expired). The reason is read only on that path."""
        return command_of(
            self._update_held_row(conn, sql, values, command_id=command_id, worker_id=worker_id)
        )

    def _update_held_row(
        self,
        conn: sqlite3.Connection,
        sql: str,
        values: tuple[Any, ...],
        *,
        command_id: int,
        worker_id: str | None,
    ) -> sqlite3.Row:
        """``_update_held``'s statement and errors, the changed row as SQLite returned it."""
        row = conn.execute(sql, (*values, command_id, worker_id, worker_id)).fetchone()
        if row is not None:
            return row
        current = self.require(command_id)
        if current.status is not CommandStatus.RUNNING:
            raise ConflictError(f"command {command_id} is {current.status}, not RUNNING")
        raise ConflictError(
            f"command {command_id} is held by {current.worker_id!r}, not {worker_id!r}"
            " (its lease expired and it was taken back)"
        )
