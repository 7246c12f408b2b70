"""``GitRepositoryRepository``: the declared git repositories and how their last fetch went.

The controller upserts a row for every repository it is told about (``declare``), records each
fetch (``record_fetch``) and forgets the ones no longer declared (``forget_others``). The CLI asks
for a fetch by setting ``fetch_requested_at`` (``request_fetch``); the controller takes the
request (``take_requests``) and fetches. Never stores a credential: the URL given is the redacted
one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import TYPE_CHECKING

from controller.db.rows import ts_from_db, ts_to_db
from controller.models.errors import NotFoundError
from controller.models.repository import FetchStatus, Repository

if TYPE_CHECKING:
    from controller.db.access import DatabaseAccess


class GitRepositoryRepository:
    def __init__(self, db: DatabaseAccess) -> None:
        self._db = db

    def declare(self, repository: Repository) -> None:
        """Insert it, or update what it is (URL, ref, path, interval, who declares it) while
        keeping how its last fetch went."""
        now = ts_to_db(self._db.clock())
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO git_repositories"
                " (name, url, ref, path, interval_s, declared_by, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET url = excluded.url, ref = excluded.ref,"
                " path = excluded.path, interval_s = excluded.interval_s,"
                " declared_by = excluded.declared_by, updated_at = excluded.updated_at",
                (
                    repository.name,
                    repository.url,
                    repository.ref,
                    repository.path,
                    repository.interval_s,
                    repository.declared_by,
                    now,
                ),
            )

    def forget_others(self, names: Iterable[str]) -> list[str]:
        """Remove the rows of repositories not in ``names``; returns the removed names."""
        keep = set(names)
        with self._db.transaction() as conn:
            gone = [
                row[0]
                for row in conn.execute("SELECT name FROM git_repositories")
                if row[0] not in keep
            ]
            conn.executemany("DELETE FROM git_repositories WHERE name = ?", [(n,) for n in gone])
        return gone

    def record_fetch(
        self,
        name: str,
        *,
        result: FetchStatus,
        commit: str | None = None,
        author: str | None = None,
        subject: str | None = None,
        error: str | None = None,
    ) -> None:
        """A failed fetch keeps the last commit read (it is still what runs)."""
        now = ts_to_db(self._db.clock())
        with self._db.transaction() as conn:
            if result is FetchStatus.FAILED:
                conn.execute(
                    "UPDATE git_repositories SET last_fetch_at = ?, last_result = ?,"
                    " last_error = ?, updated_at = ? WHERE name = ?",
                    (now, result.value, error, now, name),
                )
                return
            conn.execute(
                "UPDATE git_repositories SET last_fetch_at = ?, last_result = ?, last_error = NULL,"
                " last_commit = ?, last_author = ?, last_subject = ?, updated_at = ?"
                " WHERE name = ?",
                (now, result.value, commit, author, subject, now, name),
            )

    def request_fetch(self, name: str) -> Repository:
        now = ts_to_db(self._db.clock())
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE git_repositories SET fetch_requested_at = ? WHERE name = ?", (now, name)
            )
            if cursor.rowcount == 0:
                raise NotFoundError(f"no repository named {name!r}")
        return self.require(name)

    def take_requests(self) -> list[str]:
        """The repositories someone asked to fetch now; the requests are cleared. Reads first:
        asked every half second, it takes the write lock only when there is a request."""
        with self._db.reading() as conn:
            asked = conn.execute(
                "SELECT 1 FROM git_repositories WHERE fetch_requested_at IS NOT NULL LIMIT 1"
            ).fetchone()
        if asked is None:
            return []
        with self._db.transaction() as conn:
            names = [
                row[0]
                for row in conn.execute(
                    "SELECT name FROM git_repositories WHERE fetch_requested_at IS NOT NULL"
                )
            ]
            if names:
                conn.execute("UPDATE git_repositories SET fetch_requested_at = NULL")
        return names

    def get(self, name: str) -> Repository | None:
        with self._db.reading() as conn:
            row = conn.execute("SELECT * FROM git_repositories WHERE name = ?", (name,)).fetchone()
        return None if row is None else _repository(row)

    def require(self, name: str) -> Repository:
        repository = self.get(name)
        if repository is None:
            raise NotFoundError(f"no repository named {name!r}")
        return repository

    def list(self) -> list[Repository]:
        with self._db.reading() as conn:
            rows = conn.execute("SELECT * FROM git_repositories ORDER BY name").fetchall()
        return [_repository(row) for row in rows]


def _repository(row: sqlite3.Row) -> Repository:
    return Repository(
        name=row["name"],
        url=row["url"],
        ref=row["ref"],
        path=row["path"],
        interval_s=row["interval_s"],
        declared_by=row["declared_by"],
        last_commit=row["last_commit"],
        last_author=row["last_author"],
        last_subject=row["last_subject"],
        last_fetch_at=ts_from_db(row["last_fetch_at"]),
        last_result=row["last_result"],
        last_error=row["last_error"],
        fetch_requested_at=ts_from_db(row["fetch_requested_at"]),
        updated_at=ts_from_db(row["updated_at"]),
    )
