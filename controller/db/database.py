"""``Database``: the single entry point to the SQLite file, and the only owner of its connection.

Opening applies pending migrations, sets WAL mode, ``foreign_keys=ON``, a busy timeout and
``synchronous=FULL`` (a commit that returned survives a crash of the process *and* of the
machine; see docs/database.md). Every write goes through ``transaction()``, which takes SQLite's
write lock up front (``BEGIN IMMEDIATE``) so that read-check-write sequences such as the queue's
claim are atomic across processes. One connection per ``Database``, shared by threads under a lock;
open one ``Database`` per process.

Faults never leave as ``sqlite3`` errors (``controller.db.faults`` classifies them): a write
that fails anywhere (a statement, the ``COMMIT``: disk full, I/O error, busy, read-only) is
rolled back, leaves the connection usable and raises ``TransientError``; a file that is not a
stackctl database (garbage, a directory, another program's SQLite file, no permission) or a
corrupt one raises ``PermanentError`` naming the path (``DatabaseUnusable`` for a corrupt one,
which is also handed to ``on_unusable``: whichever thread meets it, its owner stops).
``probe_write()`` is the readiness check (a small committed write, so a full disk shows) and
``check_identity()`` tells whether the file at the path is still the one this connection holds
open (deleted or replaced: stop).

Files are private: a state folder stackctl creates is 0700 and a database file it creates is
0600 (SQLite gives its ``-wal``/``-shm`` the database's mode). Folders and files that already
exist are left as they are; ``permission_warnings()`` says which are readable by others.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import datetime
from pathlib import Path
from types import TracebackType

from controller.db.blobs import BlobRepository
from controller.db.command_logs import CommandLogRepository
from controller.db.faults import open_fault, read_fault, write_fault
from controller.db.lazy import LazyRepositories
from controller.db.outbox import OutboxRepository
from controller.db.queue import CommandRepository
from controller.db.schema import MIGRATIONS, SCHEMA_VERSION
from controller.db.stack_versions import StackVersionRepository
from controller.db.stacks import StackRepository
from controller.models.errors import (
    DatabaseUnusable,
    PermanentError,
    SchemaVersionError,
    StackctlError,
)
from controller.models.timestamps import utc_now

BUSY_TIMEOUT_MS = 10_000


class Database(LazyRepositories):
    """``with Database(db_path="storage/stackctl.db") as db: db.stacks.create(...)``.

    ``db_path`` may be ``":memory:"``. A file's parent folder is created if missing.
    ``clock`` returns the current UTC time; tests pass their own to move time forward.

    The repositories a one-shot command (``apply``, ``diff``) does not use are made, and their
    modules imported, on first use (``LazyRepositories``).
    """

    def __init__(
        self,
        db_path: str | Path = "storage/stackctl.db",
        *,
        clock: Callable[[], datetime] = utc_now,
        synchronous: str = "FULL",
        on_unusable: Callable[[DatabaseUnusable], None] | None = None,
    ) -> None:
        """``on_unusable`` is called (in the thread that met it) with the first fault that
        makes the file unusable (corrupt) met after opening; the caller's loops retry every
        other fault, so this is how a controller knows to stop."""
        self.path = str(db_path)
        self._on_unusable = on_unusable
        self.clock = clock
        self._lock = threading.RLock()
        self._identity: tuple[int, int] | None = None
        # Every fault met since opening (reads and writes): the controller compares counts to
        # know that a pass failed midway and must be run again once the database recovers.
        self.faults = 0
        self.last_fault: str | None = None
        if self.path != ":memory:":
            _create_private(Path(self.path))
        try:
            self._conn = sqlite3.connect(
                self.path,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,
                timeout=BUSY_TIMEOUT_MS / 1000,
            )
        except sqlite3.Error as e:
            raise open_fault(e, path=self.path) from e
        self._conn.row_factory = sqlite3.Row
        try:
            self._configure(synchronous)
            self._migrate()
            if self.path != ":memory:":
                self._identity = _identity_of(self.path)
        except sqlite3.Error as e:
            self._conn.close()
            raise open_fault(e, path=self.path) from e
        except BaseException:
            self._conn.close()
            raise
        self.stacks = StackRepository(self)
        self.stack_versions = StackVersionRepository(self, stacks=self.stacks)
        self.command_logs = CommandLogRepository(self)
        self.commands = CommandRepository(self, stacks=self.stacks, logs=self.command_logs)
        self.outbox = OutboxRepository(self)
        self.blobs = BlobRepository(self)

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
            self._refuse_foreign(conn, current)
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

    def _refuse_foreign(self, conn: sqlite3.Connection, current: int) -> None:
        """Another program's SQLite file is never migrated into (its tables would get ours)."""
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        if (current == 0 and tables) or (current > 0 and "stacks" not in tables):
            shown = ", ".join(sorted(tables)[:5]) or "none"
            raise PermanentError(
                f"{self.path} is an SQLite database of another program (tables: {shown}), not a"
                " stackctl database: pass another --db"
            )

    @property
    def schema_version(self) -> int:
        with self.reading() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction holding SQLite's write lock from the start; nests by joining.

        Any failure rolls it back. ``sqlite3.IntegrityError`` passes through untranslated (the
        repositories turn it into ``ConflictError``/``NotFoundError`` knowing what they did);
        every other SQLite failure (BEGIN, a statement, COMMIT) becomes ``TransientError``.
        A class rather than a generator: the queue opens one a command, and a generator's
        context manager costs several microseconds more (issue 27)."""
        return _Transaction(self)

    def _noted(self, error: StackctlError) -> StackctlError:
        self.faults += 1
        self.last_fault = str(error)
        if isinstance(error, DatabaseUnusable) and self._on_unusable is not None:
            self._on_unusable(error)
        return error

    def _roll_back(self) -> None:
        """SQLite may already have rolled back (a failed COMMIT on SQLITE_FULL does); whatever
        happened, the connection leaves here outside any transaction."""
        if not self._conn.in_transaction:
            return
        with suppress(sqlite3.Error):  # the next BEGIN reports what is wrong with the file
            self._conn.execute("ROLLBACK")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads (autocommit: each statement sees the latest commit)."""
        with self._lock:
            try:
                yield self._conn
            except sqlite3.IntegrityError:
                raise  # a write joined through reading(): the transaction translates it
            except sqlite3.Error as e:
                raise self._noted(read_fault(e, path=self.path)) from e

    def probe_write(self) -> None:
        """A small committed write (the schema version rewritten as it is): raises
        ``TransientError`` when the database cannot take writes now (a full disk, an I/O
        error, a lock held too long), as the next real write would."""
        with self.transaction() as conn:
            current = int(conn.execute("PRAGMA user_version").fetchone()[0])
            conn.execute(f"PRAGMA user_version = {current}")

    def check_identity(self) -> None:
        """Raise ``PermanentError`` when the file at ``path`` is no longer the one this
        connection holds open (deleted, or replaced by another file): writes would go to a
        file nobody else sees, and another controller could take "the" lease on the new one."""
        if self._identity is None:
            return
        try:
            now: tuple[int, int] | None = _identity_of(self.path)
        except FileNotFoundError:
            now = None
        except OSError as e:
            raise PermanentError(f"the database file {self.path} cannot be checked: {e}") from e
        if now != self._identity:
            raise PermanentError(
                f"the database file {self.path} was deleted or replaced while the controller ran"
            )

    def permission_warnings(self) -> list[str]:
        """What others may read: the database's folder, the file and its -wal/-shm."""
        if self.path == ":memory:":
            return []
        db = Path(self.path)
        found = []
        for path in (db.parent, db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            try:
                mode = path.stat().st_mode
            except OSError:
                continue
            if mode & 0o077:
                found.append(
                    f"{path} is readable by other users (mode {stat.filemode(mode)}) and the"
                    f" database holds resolved environment values and secrets:"
                    f" chmod {'700' if path.is_dir() else '600'} {path}"
                )
        return found

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


class _Transaction:
    """``Database.transaction()``: under the lock, ``BEGIN IMMEDIATE`` unless one is open (then
    it joins it and leaves the end to the outer one); ``COMMIT`` on leaving, rolled back on any
    failure (an ``IntegrityError`` as it is, other SQLite errors as ``TransientError``)."""

    __slots__ = ("_db", "_outer")

    def __init__(self, db: Database) -> None:
        self._db = db
        self._outer = False

    def __enter__(self) -> sqlite3.Connection:
        db = self._db
        db._lock.acquire()
        conn = db._conn
        if conn.in_transaction:
            return conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            db._lock.release()
            raise db._noted(write_fault(e, path=db.path)) from e
        except BaseException:
            db._lock.release()
            raise
        self._outer = True
        return conn

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        db = self._db
        try:
            if not self._outer:
                return
            if exc is None:
                try:
                    db._conn.execute("COMMIT")
                    return
                except BaseException as e:
                    exc = e
            db._roll_back()
            if isinstance(exc, sqlite3.Error) and not isinstance(exc, sqlite3.IntegrityError):
                raise db._noted(write_fault(exc, path=db.path)) from exc
            if exc_type is None:
                raise exc  # COMMIT failed with an IntegrityError (a deferred constraint)
        finally:
            db._lock.release()


def _identity_of(path: str) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_dev, info.st_ino


def _create_private(path: Path) -> None:
    """The folder (0700) and the file (0600) when they do not exist yet; existing ones are the
    user's choice and stay as they are. SQLite opens the file we made; its -wal and -shm take
    the file's mode."""
    try:
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists() and not path.is_symlink():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
    except FileExistsError:
        pass  # created meanwhile by another process: theirs is as good
    except OSError as e:
        reason = e.strerror or str(e)
        raise PermanentError(f"cannot create the database {path}: {reason}") from e


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
