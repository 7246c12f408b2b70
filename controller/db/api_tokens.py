"""``ApiTokenRepository``: personal and service tokens, kept as hashes.

The token itself is never stored: its row holds the public ``token_id`` the token carries and
an argon2id hash of its secret (made and checked above this layer, ``commands/tokens.py``). A
token is live until it expires or is revoked; a revoked row stays (the audit log names it) and
its name may be given to a new token.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING

from controller.db.rows import ts_from_db, ts_to_db
from controller.models.audit import ApiToken
from controller.models.errors import ConflictError, NotFoundError

if TYPE_CHECKING:
    from controller.db.access import DatabaseAccess


class ApiTokenRepository:
    def __init__(self, db: DatabaseAccess) -> None:
        self._db = db

    def add(self, token: ApiToken, *, secret_hash: str) -> ApiToken:
        """Record a new token; ``ConflictError`` when a live token has its name."""
        try:
            with self._db.transaction() as conn:
                conn.execute(
                    "INSERT INTO api_tokens (token_id, name, secret_hash, role, stacks, owner,"
                    " created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        token.token_id,
                        token.name,
                        secret_hash,
                        token.role,
                        token.stacks,
                        token.owner,
                        token.created_by,
                        ts_to_db(token.created_at),
                        ts_to_db(token.expires_at),
                    ),
                )
        except sqlite3.IntegrityError as e:
            raise ConflictError(f"a live token is already named {token.name!r}") from e
        return token

    def find(self, token_id: str) -> tuple[ApiToken, str] | None:
        """The token with this id and its secret's hash (revoked and expired ones too)."""
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT * FROM api_tokens WHERE token_id = ?", (token_id,)
            ).fetchone()
        return None if row is None else (_token(row), row["secret_hash"])

    def list(self, *, include_revoked: bool = False) -> list[ApiToken]:
        """By name; revoked tokens only when asked (expired ones always: they say so)."""
        where = "" if include_revoked else " WHERE revoked_at IS NULL"
        with self._db.reading() as conn:
            rows = conn.execute(
                f"SELECT * FROM api_tokens{where} ORDER BY name, created_at"
            ).fetchall()
        return [_token(row) for row in rows]

    def revoke(self, name: str, *, by: str) -> ApiToken:
        """Revoke the live token named ``name`` now; ``NotFoundError`` when there is none."""
        now = self._db.clock()
        with self._db.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM api_tokens WHERE name = ? AND revoked_at IS NULL", (name,)
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no live token named {name!r}")
            conn.execute(
                "UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE token_id = ?",
                (ts_to_db(now), by, row["token_id"]),
            )
        revoked = _token(row)
        return ApiToken(**{**revoked.__dict__, "revoked_at": now, "revoked_by": by})

    def touch(self, token_id: str, at: datetime) -> None:
        """Note that the token was used at ``at`` (callers do it at most once a minute)."""
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE api_tokens SET last_used_at = ? WHERE token_id = ?",
                (ts_to_db(at), token_id),
            )

    def any_live(self) -> bool:
        """Whether some token is neither revoked nor expired (then the API asks who calls)."""
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT 1 FROM api_tokens WHERE revoked_at IS NULL"
                " AND (expires_at IS NULL OR expires_at > ?) LIMIT 1",
                (ts_to_db(self._db.clock()),),
            ).fetchone()
        return row is not None


def _token(row: sqlite3.Row) -> ApiToken:
    created = ts_from_db(row["created_at"])
    assert created is not None
    return ApiToken(
        token_id=row["token_id"],
        name=row["name"],
        role=row["role"],
        stacks=row["stacks"],
        owner=row["owner"],
        created_by=row["created_by"],
        created_at=created,
        expires_at=ts_from_db(row["expires_at"]),
        revoked_at=ts_from_db(row["revoked_at"]),
        revoked_by=row["revoked_by"],
        last_used_at=ts_from_db(row["last_used_at"]),
    )
