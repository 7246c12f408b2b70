"""``Database``: the single entry point to the SQLite file, and the only owner of its connection.

Opening applies pending migrations, sets WAL mode, ``foreign_keys=ON``, a busy timeout and
``synchronous=FULL`` (a commit that returned survives a crash of the process *and* of the
machine; see the README). Every write goes through ``transaction()``, which takes SQLite's write
lock up front (``BEGIN IMMEDIATE``) so that read-check-write sequences such as the queue's claim
are atomic across processes. One connection per ``Database``, shared by threads under a lock;
open one ``Database`` per process.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType

from controller.db.blobs import BlobRepository
from controller.db.leases import LeaseRepository
from controller.db.repositories import (
    CommandLogRepository,
    CommandRepository,
    EventRepository,
    StackRepository,
    StackVersionRepository,
)
from controller.db.schema import MIGRATIONS, SCHEMA_VERSION
from controller.errors import PermanentError, SchemaVersionError, TransientError
from controller.models.timestamps import utc_now

BUSY_TIMEOUT_MS = 10_000


class Database:
    """``with Database(db_path="storage/stackctl.db") as db: db.stacks.create(...)``.

    ``db_path`` may be ``":memory:"``. A file's parent folder is created if missing.
    ``clock`` returns the current UTC time; tests pass their own to move time forward.
    """

    def __init__(
        self,
        db_path: str | Path = "storage/stackctl.db",
        *,
        clock: Callable[[], datetime] = utc_now,
        synchronous: str = "FULL",
    ) -> None:
        self.path = str(db_path)
        self.clock = clock
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            self.path,
            isolation_level=None,  # we issue BEGIN/COMMIT ourselves
            check_same_thread=False,
            timeout=BUSY_TIMEOUT_MS / 1000,
        )
        self._conn.row_factory = sqlite3.Row
        try:
            self._configure(synchronous)
            self._migrate()
        except BaseException:
            self._conn.close()
            raise
        self.stacks = StackRepository(self)
        self.stack_versions = StackVersionRepository(self)
        self.commands = CommandRepository(self)
        self.command_logs = CommandLogRepository(self)
        self.events = EventRepository(self)
        self.blobs = BlobRepository(self)
        self.leases = LeaseRepository(self)

    def _configure(self, synchronous: str) -> None:
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous}")
        self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._conn.execute("PRAGMA foreign_keys = ON")
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute(f"PRAGMA synchronous = {synchronous}")

    def _migrate(self) -> None:
        with self.transaction() as conn:
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            if current > SCHEMA_VERSION:
                raise SchemaVersionError(
                    f"{self.path} was written by a newer stackctl (schema version {current}; "
                    f"this stackctl knows up to {SCHEMA_VERSION}): upgrade stackctl"
                )
            for number in range(current + 1, SCHEMA_VERSION + 1):
                # executescript() would COMMIT our transaction; run statement by statement.
                try:
                    for statement in _statements(MIGRATIONS[number - 1]):
                        conn.execute(statement)
                except sqlite3.Error as e:
                    raise PermanentError(
                        f"{self.path}: migration to schema version {number} failed: {e}"
                    ) from e
                conn.execute(f"PRAGMA user_version = {number}")

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding SQLite's write lock from the start; nests by joining."""
        with self._lock:
            if self._conn.in_transaction:
                yield self._conn
                return
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as e:
                raise TransientError(f"database {self.path} is busy: {e}") from e
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads (autocommit: each statement sees the latest commit)."""
        with self._lock:
            yield self._conn

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _statements(script: str) -> Iterator[str]:
    """Split a migration into complete statements (triggers contain ``;`` inside BEGIN...END)."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    buffer = ""
    for piece in "\n".join(lines).split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n;"):
                yield buffer.strip()
            buffer = ""
    if buffer.strip(" \n;"):
        raise ValueError(f"incomplete SQL statement in migration: {buffer.strip()[:80]}")
