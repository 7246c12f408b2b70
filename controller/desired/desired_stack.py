"""``DesiredStack``: one stack as the files declare it, canonical and digested.

The digest covers everything that has a meaning at runtime: the name, ``labels``,
``suspend``, ``prune``, ``deletion_policy``, the delivery settings (``notify``, ``rollback``,
``timeout``, ``image_updates``: digested only when set) and the canonical compose project.
``suspend`` is
in it on purpose: toggling it is a change people make in the files, so it must produce a new
version (whose compose part, and so every service's config hash, stays the same; the planner
then has nothing to recreate). ``source`` (where the stack was found) is not in it: moving a
manifest to another file changes nothing the engine would see. Nor is ``base``: the
source's own folder (root-relative), from which the model's relative host paths start, so
that naming one folder in different ways (``eco1``, ``./eco1``, the folder inside a watched
root) gives one digest; the runtime resolves host paths from it. ``files`` holds the bytes of
secrets/configs by content hash for the runtime; the model refers to them by hash only, so
they are neither serialized nor digested nor compared.

This module must never read files; the loader builds these values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator

from controller.desired.compose import ComposeProject
from controller.desired.delivery import ImageUpdates, NotifyTarget, RollbackPolicy
from controller.desired.digest import canonical_json, config_hash, sha256_text
from controller.desired.engine_spec import LOCAL, Target
from controller.desired.names import name_problem

DIGESTED_FIELDS = frozenset(
    {
        "name",
        "labels",
        "suspend",
        "prune",
        "deletion_policy",
        "adopt",
        "compose",
        "notify",
        "rollback",
        "timeout",
        "image_updates",
        "target",
    }
)
# Digested only when not at their default: digests recorded before they existed stay valid.
_DIGESTED_WHEN_SET = {
    "adopt": False,
    "notify": [],
    "rollback": {"on_failure": False},
    "timeout": None,
    "image_updates": None,
    "target": None,
}
_CACHED = ("digest", "service_hashes", "compose_hashes")


class DesiredStack(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    source: str = ""  # root-relative posix path of the manifest file or project folder
    base: str = "."  # root-relative folder the model's relative host paths start from
    labels: dict[str, str] = Field(default_factory=dict)
    suspend: bool = False
    prune: bool = True
    deletion_policy: Literal["Delete", "Orphan"] = "Delete"
    adopt: bool = False  # take over what `docker compose` made in this project (planner)
    # Delivery (controller.desired.delivery): never seen by the engine, digested when set.
    notify: tuple[NotifyTarget, ...] = ()
    rollback: RollbackPolicy = RollbackPolicy()
    timeout: float | None = Field(default=None, gt=0)  # health wait, seconds; None: the default
    image_updates: ImageUpdates | None = None
    # Where it runs (controller.desired.engine_spec): None is the engine named `local`. Digested
    # when set, so a stack's digest changes when it moves, and old digests stay as they were.
    target: Target | None = None
    compose: ComposeProject
    files: dict[str, bytes] = Field(default_factory=dict, exclude=True, repr=False)
    # Services left out because none of their profiles is active (name -> its profiles), for
    # `validate` and `diff` to say so; not digested: only the active services are the stack.
    disabled_services: dict[str, list[str]] = Field(default_factory=dict, exclude=True)
    # Each service as Docker Compose v2 loads it (``controller.sources.loader.compose_view``,
    # host paths absolute): what ``compose_hashes`` hashes. Kept with the version but not
    # digested, as it depends on how the file is written; a service without one (recorded
    # before it existed, or one Compose's hash cannot be known for) has no Compose hash.
    compose_views: dict[str, dict[str, Any]] = Field(default_factory=dict, exclude=True)

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        problem = name_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @property
    def engine(self) -> str:
        """The name of the engine this stack runs on."""
        return self.target.engine if self.target is not None else LOCAL

    def canonical_data(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", include=set(DIGESTED_FIELDS))
        for key, default in _DIGESTED_WHEN_SET.items():
            if data[key] == default:
                del data[key]
        return data

    def canonical_json(self) -> str:
        """Exactly the JSON that is digested; store it, and read it back with
        ``from_canonical_json``."""
        return canonical_json(self.canonical_data())

    @cached_property
    def digest(self) -> str:
        return sha256_text(self.canonical_json())

    @cached_property
    def service_hashes(self) -> dict[str, str]:
        return {name: config_hash(service) for name, service in self.compose.services.items()}

    @cached_property
    def compose_hashes(self) -> dict[str, str]:
        """Compose v2's config hash of each service that has a Compose view, for the image
        stackctl runs (a pinned image replaces the file's, as it would in the file)."""
        from controller.desired.compose_hash import compose_config_hash  # validate never asks

        return {
            name: compose_config_hash(view, base=Path("/"), image=service.image)
            for name, view in self.compose_views.items()
            if (service := self.compose.services.get(name)) is not None
        }

    @classmethod
    def from_canonical_json(
        cls,
        text: str | bytes,
        *,
        source: str = "",
        files: Mapping[str, bytes] | None = None,
        expected_digest: str | None = None,
    ) -> DesiredStack:
        """Rebuild a stack from stored canonical JSON; with ``expected_digest``, refuse JSON
        that does not hash to it (a corrupted or hand-edited record)."""
        data = json.loads(text)
        stack = cls.model_validate({**data, "source": source, "files": dict(files or {})})
        if expected_digest is not None and stack.digest != expected_digest:
            raise ValueError(f"stored stack {stack.name!r} does not match its digest")
        return stack

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy whose digest and config hashes are computed afresh: the cached ones would
        otherwise be copied along and go stale when ``update`` changes what they hash."""
        copy = super().model_copy(update=update, deep=deep)
        for name in _CACHED:
            copy.__dict__.pop(name, None)
        return copy

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DesiredStack):
            return NotImplemented
        return self.source == other.source and self.canonical_json() == other.canonical_json()

    def __hash__(self) -> int:
        return hash((self.source, self.digest))
