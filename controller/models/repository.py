"""A git repository the controller fetches stacks from, and how its last fetch went.

The URL here is always the redacted one (no password or token): this row is shown by the CLI,
the API and the console. Credentials live in files named by the repository's declaration and are
read at each fetch, never stored.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from controller.models.timestamps import UtcDateTime, utc_now


class FetchStatus(StrEnum):
    CHANGED = "changed"  # a new commit was checked out and read
    UNCHANGED = "unchanged"  # the ref's commit is the one already read: nothing reloaded
    FAILED = "failed"  # nothing was changed or deleted; ``last_error`` says why


class Repository(BaseModel):
    model_config = ConfigDict(validate_assignment=True)

    name: str = Field(min_length=1)
    url: str  # redacted
    ref: str
    path: str
    interval_s: float
    declared_by: str  # "--git-url" or the manifest file that declares it
    last_commit: str | None = None
    last_author: str | None = None
    last_subject: str | None = None
    last_fetch_at: UtcDateTime | None = None
    last_result: FetchStatus | None = None
    last_error: str | None = None
    fetch_requested_at: UtcDateTime | None = None  # `stackctl sync --repository`: fetch now
    updated_at: UtcDateTime = Field(default_factory=utc_now)
