"""An immutable, numbered stack version: the compose definition it wants, and who made it.

Versions are labelled ``v1``, ``v2``, ... per stack; ``parent_version`` is the version it was
derived from. Only ``status``, ``runtime`` (service -> container ids) and ``healthy_at`` change
after creation; the database enforces that with triggers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from controller.models.enums import VersionStatus
from controller.models.timestamps import UtcDateTime, utc_now
from controller.models.version_label import version_number


@dataclass(frozen=True)
class VersionHead:
    """What the watcher compares on every pass, for each stack's latest version, without
    loading its compose definition: the label, the digest, and where it was recorded from."""

    stack_id: str
    version: str
    digest: str
    source: str | None
    root: str | None


@dataclass(frozen=True)
class VersionOrigin:
    """Where a stack's latest version came from, light (the console's table reads it for every
    stack at once): its label, the file, and the repository, ref and commit when it has them.
    The names are ``StackMetadata``'s, so either describes an origin."""

    version: str
    source: str | None
    git_repository: str | None
    git_ref: str | None
    git_commit: str | None


class StackMetadata(BaseModel):
    model_config = ConfigDict(frozen=True)

    created_at: UtcDateTime = Field(default_factory=utc_now)
    created_by: str = "stackctl"
    comment: str | None = None
    source: str | None = None  # the manifest file or folder, relative to the watched root
    root: str | None = None  # the watched root, as given
    # The stack's source folder, relative to ``root``: the version's relative host paths start
    # there. None (versions recorded before it existed): they start at ``root``.
    base: str | None = None
    git_commit: str | None = None
    git_author: str | None = None
    git_subject: str | None = None
    # Versions read from a repository (``kind: Repository`` or ``--git-url``): which one, at
    # which ref; ``git_commit`` is then the fetched commit, not the last one touching the file.
    git_repository: str | None = None
    git_ref: str | None = None


class ComposeDefinition(BaseModel):
    """The compose document a version wants, as JSON-able data.

    It stays permissive (``extra="allow"``): the strict validation happens in
    ``controller.sources.loader``
    before a version is recorded; here it is the stored, canonical form.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    version: str | None = None  # obsolete in Compose; kept only because the seed passes it
    services: dict[str, Any] = Field(default_factory=dict)

    def canonical_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def digest(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()


class StackVersion(BaseModel):
    """``version=None`` asks the repository for the next label; ``digest=None`` derives it from
    ``compose`` (a loader that hashes more than the compose document passes its own)."""

    stack_id: str = Field(min_length=1)
    version: str | None = None
    parent_version: str | None = None
    digest: str | None = None
    metadata: StackMetadata = Field(default_factory=StackMetadata)
    compose: ComposeDefinition
    status: VersionStatus = VersionStatus.PENDING
    runtime: dict[str, list[str]] = Field(default_factory=dict)
    # When the version was last seen applied and Healthy (None: never): the automatic
    # rollback goes back to the newest such version. Set by the reconciler, not on creation.
    healthy_at: UtcDateTime | None = None

    @field_validator("version", "parent_version")
    @classmethod
    def _label(cls, value: str | None) -> str | None:
        if value is not None:
            version_number(value)
        return value

    @property
    def number(self) -> int:
        if self.version is None:
            raise ValueError("this version has no label yet")
        return version_number(self.version)
