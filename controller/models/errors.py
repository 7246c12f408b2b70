"""The project's error types: every failure says what to do next.

- ``TransientError``: retry later with backoff (engine unreachable, a timeout, a busy database).
- ``PermanentError``: stop and record the reason (invalid spec, a state transition that makes no
  sense, a duplicate).
- ``ManifestError``: a problem in a file of the watched directory, with file, line and key path.

Lower layers translate foreign errors (``sqlite3``, docker-py) into these at their boundary and
chain the original (``raise ... from e``); the worker decides retry-or-fail in one place.
"""

from __future__ import annotations


class StackctlError(Exception):
    """Base of every error this project raises on purpose."""


class TransientError(StackctlError):
    """Something that may succeed if tried again later."""


class PermanentError(StackctlError):
    """Something that will fail again the same way; record it and stop."""


class NotFoundError(PermanentError):
    """A stack, version or command that does not exist."""


class NameInUseError(PermanentError):
    """The engine refused a name another container holds (``holder``: that container's id)."""

    def __init__(self, message: str, *, name: str, holder: str) -> None:
        super().__init__(message)
        self.name = name
        self.holder = holder


class ConflictError(PermanentError):
    """The request contradicts what is stored (duplicate, out of order, bad transition)."""


class DatabaseUnusable(PermanentError):
    """The database file cannot be used any more (corrupt, not a database): nothing done with it
    will work, so the controller stops; the message names the file and what to do."""


class SchemaVersionError(PermanentError):
    """The database file was written by a newer stackctl than this one."""


class ManifestError(StackctlError):
    """One problem in one manifest file: where it is and what is wrong.

    ``line`` is 1-based and ``None`` when the problem has no position (a missing file);
    ``path`` is the key path inside the document (``services.web.ports[1]``), empty for the
    whole file.
    """

    def __init__(self, *, file: str, message: str, line: int | None = None, path: str = "") -> None:
        self.file = file
        self.line = line
        self.path = path
        self.message = message
        super().__init__(self.render())

    def render(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "path": self.path, "message": self.message}


class LeaseLost(StackctlError):
    """Another worker took the command back: stop without recording anything more."""


class Interrupted(StackctlError):
    """The controller is stopping: abandon the command at a step boundary (it is requeued)."""


class Yielded(StackctlError):
    """A wait gave its worker to waiting work (``controller.reconcile.turns``): the command goes
    back to
    the queue, not a failure, and goes on from where it was; ``waits`` says when each of its
    waits began, so that their timeouts still count from their first look."""

    def __init__(self, message: str, *, waits: dict[str, str]) -> None:
        super().__init__(message)
        self.waits = waits  # wait (a service) -> when it began, ISO-8601 UTC


class Cancelled(StackctlError):
    """Someone asked the command to stop (``stackctl cancel``, a DELETE of its stack)."""


class AlreadyRunning(StackctlError):
    """Another controller holds the database."""
