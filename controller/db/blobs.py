"""Content-addressed bytes (secrets and configs a version mounts), stored once per hash."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from controller.db.rows import ts_to_db
from controller.models.errors import ConflictError

if TYPE_CHECKING:
    from controller.db.access import DatabaseAccess


class BlobRepository:
    def __init__(self, db: DatabaseAccess) -> None:
        self._db = db

    def put_many(self, blobs: Mapping[str, bytes]) -> None:
        """Store each ``sha256 -> content`` pair (already stored ones are left as they are)."""
        for digest, content in blobs.items():
            if hashlib.sha256(content).hexdigest() != digest:
                raise ConflictError(f"blob {digest[:12]} does not hash to its name")
        now = ts_to_db(self._db.clock())
        with self._db.transaction() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO blobs (sha256, content, created_at) VALUES (?, ?, ?)",
                [(digest, content, now) for digest, content in blobs.items()],
            )

    def get_many(self, digests: Iterable[str]) -> dict[str, bytes]:
        wanted = sorted(set(digests))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        with self._db.reading() as conn:
            rows = conn.execute(
                f"SELECT sha256, content FROM blobs WHERE sha256 IN ({marks})", wanted
            ).fetchall()
        return {row[0]: bytes(row[1]) for row in rows}
