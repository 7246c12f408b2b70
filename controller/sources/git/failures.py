"""Why fetching a repository failed, as errors that say what to do next.

Every fetch failure is a ``TransientError``: the worker retries with backoff, and the previous
checkout stays current in the meantime (a source that cannot be read deletes nothing). The
subclasses tell an operator what to fix; ``kind`` carries the same answer as a plain string for
logs, metrics and the API. Messages never hold a credential: whatever git printed has been
passed through ``controller.desired.repository_spec.redact`` before it reaches one of these.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from controller.models.errors import TransientError

FetchErrorKind = Literal[
    "unreachable", "timeout", "auth", "ref_not_found", "path_not_found", "cancelled", "too_big"
]


class FetchError(TransientError):
    """The repository could not be fetched or checked out (unreachable, refused, corrupt)."""

    kind: ClassVar[FetchErrorKind] = "unreachable"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FetchTimeout(FetchError):
    """git did not finish within the fetcher's timeout; it and its children were killed."""

    kind: ClassVar[FetchErrorKind] = "timeout"


class FetchAuthError(FetchError):
    """The server refused the credential, or its SSH host key is unknown or has changed."""

    kind: ClassVar[FetchErrorKind] = "auth"


class RefNotFound(FetchError):
    """The branch, tag or commit named by ``ref`` is not in the repository (yet)."""

    kind: ClassVar[FetchErrorKind] = "ref_not_found"


class PathNotFound(FetchError):
    """The commit holds no folder at the spec's ``path``; the previous checkout stays current."""

    kind: ClassVar[FetchErrorKind] = "path_not_found"


class FetchCancelled(FetchError):
    """The fetch was stopped because the controller stops: not a failure of the repository."""

    kind: ClassVar[FetchErrorKind] = "cancelled"
