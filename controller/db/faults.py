"""What a failing SQLite call means for the caller: retry later, or stop and say what is wrong.

``Database`` passes every ``sqlite3`` error it meets through one of these; nothing above the
``db`` layer sees a ``sqlite3`` exception. The classification follows SQLite's primary result
codes (``sqlite_errorcode``), with the message as a fallback for errors raised without one.
What a running controller may meet, and what it does (issue 24):

- the file is unusable (``SQLITE_CORRUPT`` "database disk image is malformed", ``SQLITE_NOTADB``
  "file is not a database"): ``DatabaseUnusable`` (a ``PermanentError``), whatever was being
  done. Permanent: retrying reads the same bad page forever. The controller stops at once with
  one ``error:`` line naming the file and what to do (restore a backup, or ``.recover``);
- opening fails (``SQLITE_CANTOPEN``: a directory at the path, no permission to the folder):
  ``PermanentError``, at start;
- the machine says not now: ``TransientError``, so the loops retry with backoff and ``/readyz``
  shows the reason. ``SQLITE_BUSY``/``SQLITE_LOCKED`` (another process holds the write lock
  past the busy timeout), ``SQLITE_FULL`` (disk full), ``SQLITE_NOMEM``. Also, though they may
  last: ``SQLITE_IOERR`` (an NFS or disk hiccup often passes; a dying disk shows in /readyz and
  the kernel log, and the controller resumes by itself if it is replaced underneath) and
  ``SQLITE_READONLY`` (a file system remounted read-only, a chmod: an operator fixes it
  without restarting us). Neither is proof the file is bad, and stopping would also stop the
  work that does not write;
- anything else (a statement this code got wrong): ``TransientError`` for a write (the brief of
  the queue: a write is retried, never lost to a crash) and ``PermanentError`` for a read.
"""

from __future__ import annotations

import sqlite3

from controller.models.errors import DatabaseUnusable, PermanentError, StackctlError, TransientError

# SQLite's primary result codes (the low byte of an extended code).
_PERM, _BUSY, _LOCKED, _NOMEM, _READONLY, _INTERRUPT, _IOERR = 3, 5, 6, 7, 8, 9, 10
_CORRUPT, _FULL, _CANTOPEN, _PROTOCOL, _NOTADB = 11, 13, 14, 15, 26


def _what(error: sqlite3.Error) -> str:
    """A short name for what went wrong: ``disk full``, ``disk I/O error``, ``corrupt``, ..."""
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(error).lower()
    if primary == _FULL or "disk is full" in text:
        return "disk full"
    if primary == _IOERR or "disk i/o error" in text:
        return "disk I/O error"
    if primary in (_CORRUPT, _NOTADB) or "malformed" in text or "not a database" in text:
        return "corrupt"
    if primary in (_BUSY, _LOCKED) or "locked" in text or "busy" in text:
        return "busy"
    if primary == _CANTOPEN or "unable to open" in text:
        return "cannot open"
    if primary in (_READONLY, _PERM) or "readonly" in text:
        return "read-only"
    if primary in (_NOMEM, _INTERRUPT, _PROTOCOL):
        return "unavailable"
    return "error"


def _corrupt(error: sqlite3.Error, path: str) -> DatabaseUnusable:
    return DatabaseUnusable(
        f"the database {path} is corrupt or not a stackctl database ({error}): restore it from a"
        f" backup, or salvage what it holds with `sqlite3 {path} .recover | sqlite3 NEW.db` and"
        " run with --db NEW.db"
    )


def write_fault(error: sqlite3.Error, *, path: str) -> StackctlError:
    """A write (BEGIN, a statement, COMMIT) failed: retry later unless the file is unusable."""
    what = _what(error)
    if what == "corrupt":
        return _corrupt(error, path)
    if what == "busy":
        return TransientError(f"database {path} is busy: {error}")
    return TransientError(f"database {path}: {what}: {error}")


def read_fault(error: sqlite3.Error, *, path: str) -> StackctlError:
    """A read failed: an I/O error or a busy file may pass, a corrupt file does not."""
    what = _what(error)
    if what == "corrupt":
        return _corrupt(error, path)
    if what in ("disk full", "disk I/O error", "busy", "cannot open", "read-only", "unavailable"):
        return TransientError(f"database {path}: {what}: {error}")
    return PermanentError(f"database {path}: reading failed: {error}")


def open_fault(error: sqlite3.Error, *, path: str) -> StackctlError:
    """Opening (connect, pragmas, migrations) failed: the file cannot be used as it is."""
    what = _what(error)
    if what == "corrupt":
        return _corrupt(error, path)
    if what == "cannot open":
        return PermanentError(
            f"cannot open the database {path}: {error} (is it a directory, or is its folder not"
            " writable by this user?)"
        )
    if what in ("disk full", "disk I/O error", "busy"):
        return TransientError(f"database {path}: {what}: {error}")
    return PermanentError(f"cannot open the database {path}: {error}")
