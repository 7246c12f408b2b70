"""``ConsoleSessionRepository``: the web console's sessions, one row per token entry.

A row lives until its ``expires_at`` or until ``close`` deletes it ("Forget token"); an expired
row is never valid and is deleted when the next session opens. Rows are keyed by the SHA-256 of
the session id the cookie holds (computed by the console: this layer never sees the id), with
a digest of the token the session was opened with, so that a new token ends every session.
A person signed in through OpenID Connect has ``who`` (their user name) and ``groups`` (read at
sign-in); a session opened with the API token has neither (it acts as the admin token).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from controller.db.rows import ts_from_db, ts_to_db

if TYPE_CHECKING:
    from controller.db.access import DatabaseAccess


@dataclass(frozen=True)
class ConsoleSession:
    token_digest: str
    expires_at: datetime
    who: str | None = None  # None: opened with the API token
    groups: tuple[str, ...] = ()


class ConsoleSessionRepository:
    def __init__(self, db: DatabaseAccess) -> None:
        self._db = db

    def open(
        self,
        *,
        session_hash: str,
        token_digest: str,
        lifetime: timedelta,
        who: str | None = None,
        groups: tuple[str, ...] = (),
    ) -> None:
        """Record a new session valid for ``lifetime`` from now; drop the expired ones."""
        now = self._db.clock()
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM console_sessions WHERE expires_at <= ?", (ts_to_db(now),))
            conn.execute(
                "INSERT INTO console_sessions"
                " (session_hash, token_digest, created_at, expires_at, who, groups)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    session_hash,
                    token_digest,
                    ts_to_db(now),
                    ts_to_db(now + lifetime),
                    who,
                    json.dumps(list(groups)),
                ),
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

    def find(self, session_hash: str) -> ConsoleSession | None:
        """The live (unexpired) session with this hash, or ``None``."""
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT token_digest, expires_at, who, groups FROM console_sessions"
                " WHERE session_hash = ? AND expires_at > ?",
                (session_hash, ts_to_db(self._db.clock())),
            ).fetchone()
        if row is None:
            return None
        expires = ts_from_db(row["expires_at"])
        assert expires is not None
        groups = json.loads(row["groups"] or "[]")
        return ConsoleSession(row["token_digest"], expires, row["who"], tuple(map(str, groups)))

    def close(self, session_hash: str) -> None:
        """End the session now (its cookie works nowhere from here on)."""
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM console_sessions WHERE session_hash = ?", (session_hash,))
