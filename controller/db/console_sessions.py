"""``ConsoleSessionRepository``: the web console's sessions, one row per token entry.

A row lives until its ``expires_at`` or until ``close`` deletes it ("Forget token"); an expired
row is never valid and is deleted when the next session opens. Rows are keyed by the SHA-256 of
the session id the cookie holds (computed by the console: this layer never sees the id), with
a digest of the token the session was opened with, so that a new token ends every session.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from controller.db.rows import ts_to_db

if TYPE_CHECKING:
    from controller.db.access import DatabaseAccess


class ConsoleSessionRepository:
    def __init__(self, db: DatabaseAccess) -> None:
        self._db = db

    def open(self, *, session_hash: str, token_digest: str, lifetime: timedelta) -> None:
        """Record a new session valid for ``lifetime`` from now; drop the expired ones."""
        now = self._db.clock()
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM console_sessions WHERE expires_at <= ?", (ts_to_db(now),))
            conn.execute(
                "INSERT INTO console_sessions (session_hash, token_digest, created_at, expires_at)"
                " VALUES (?, ?, ?, ?)",
                (session_hash, token_digest, ts_to_db(now), ts_to_db(now + lifetime)),
            )

    def valid(self, *, session_hash: str, token_digest: str) -> bool:
        """The session exists, was opened with this token and has not expired."""
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT 1 FROM console_sessions"
                " WHERE session_hash = ? AND token_digest = ? AND expires_at > ?",
                (session_hash, token_digest, ts_to_db(self._db.clock())),
            ).fetchone()
        return row is not None

    def close(self, session_hash: str) -> None:
        """End the session now (its cookie works nowhere from here on)."""
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM console_sessions WHERE session_hash = ?", (session_hash,))
