"""Desired stacks <-> stored versions: recording a new version, reading one back.

The single place that knows how a ``DesiredStack`` is kept in ``stack_versions``: the canonical
compose project is the version's ``compose`` document, the stack-level settings ride along as
its ``x-stackctl`` extension (Compose's own mechanism for tool data), the digest is the
stack's digest, and the bytes of secrets/configs go to the ``blobs`` table. Reading back
rebuilds an equal ``DesiredStack`` and refuses one whose digest does not match. A stack kept
compact (``controller.desired.compact``) records from its text as the model would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.db import Database
from controller.desired import DesiredStack
from controller.desired.compact import Loaded
from controller.desired.engine_spec import LOCAL
from controller.models import (
    Command,
    CommandType,
    ComposeDefinition,
    Event,
    Stack,
    StackMetadata,
    StackVersion,
)
from controller.models.errors import PermanentError
from controller.sources.secrets import sealed_blobs

SETTINGS_KEY = "x-stackctl"
# adopt and the delivery settings are in the canonical data only when set (see DesiredStack)
_SETTINGS = (
    "labels",
    "suspend",
    "prune",
    "deletion_policy",
    "adopt",
    "notify",
    "rollback",
    "timeout",
    "image_updates",
    "target",
)


def version_engine(version: StackVersion) -> str:
    """The name of the engine a stored version targets (``local`` unless it says another),
    read from its settings without rebuilding the whole model."""
    settings = (version.compose.model_extra or {}).get(SETTINGS_KEY) or {}
    target = settings.get("target") if isinstance(settings, dict) else None
    engine = target.get("engine") if isinstance(target, dict) else None
    return engine if isinstance(engine, str) and engine else LOCAL


# Kept with the version, never digested: each service as Compose v2 loads it (see DesiredStack).
# A change of form alone (same digest) records no new version, so the views stay those of the
# form the version was recorded from.
VIEWS_KEY = "compose_views"


def to_compose_definition(desired: Loaded) -> ComposeDefinition:
    data = desired.canonical_data()
    settings = {key: data[key] for key in _SETTINGS if key in data}
    views = desired.compose_views  # made from JSON text by a CompactStack: asked once
    if views:
        settings[VIEWS_KEY] = views
    return ComposeDefinition.model_validate({**data["compose"], SETTINGS_KEY: settings})


def record_version(
    db: Database,
    desired: Loaded,
    *,
    root: Path,
    metadata: StackMetadata | None = None,
    parent_version: str | None = None,
    force: bool = False,
) -> StackVersion | None:
    """Record ``desired`` as the stack's next version, creating the stack if it is new.

    Returns ``None`` (and records nothing) when the latest version has the same digest, unless
    ``force`` (a rollback records the old spec again, on purpose). A pinned stack (after a
    rollback) gets the version recorded but not made current: ``stackctl resume`` does that.
    """
    with db.transaction():
        stack = db.stacks.get(desired.name)
        if stack is None:
            stack = db.stacks.create(Stack(stack_id=desired.name, name=desired.name))
        if db.stack_versions.latest_digest(desired.name) == desired.digest and not force:
            return None
        db.blobs.put_many(desired.files)
        meta = (metadata or StackMetadata()).model_copy(
            update={
                "source": desired.source or None,
                "root": str(root),
                "base": desired.base if desired.base != "." else None,
            }
        )
        recorded = db.stack_versions.create(
            StackVersion(
                stack_id=desired.name,
                parent_version=parent_version,
                digest=desired.digest,
                metadata=meta,
                compose=to_compose_definition(desired),
            ),
            make_current=not stack.pinned or force,
        )
        db.outbox.add(
            "version.recorded",
            key=f"version:{recorded.stack_id}:{recorded.version}",
            stack_id=recorded.stack_id,
            payload=version_payload(recorded, message=_recorded_message(recorded)),
        )
        return recorded


def version_payload(version: StackVersion, *, message: str) -> dict[str, Any]:
    """What a notification about ``version`` carries: the message, the version, its digest
    and where it came from (the commit, for commit statuses)."""
    meta = version.metadata
    return {
        "message": message,
        "version": version.version,
        "digest": version.digest,
        "created_by": meta.created_by,
        "source": meta.source,
        "git_repository": meta.git_repository,
        "git_ref": meta.git_ref,
        "git_commit": meta.git_commit,
        "git_subject": meta.git_subject,
    }


def _recorded_message(version: StackVersion) -> str:
    meta = version.metadata
    origin = meta.source or meta.created_by
    if meta.git_commit:
        where = f"{meta.git_repository}@{meta.git_commit[:7]}" if meta.git_repository else ""
        origin = f"{where or meta.git_commit[:7]}: {meta.git_subject or ''}".rstrip(": ")
    return f"{version.stack_id} {version.version} recorded ({origin}, by {meta.created_by})"


@dataclass(frozen=True)
class Recorded:
    """What ``record_and_enqueue`` did: the new version (``None``: digest unchanged) and the
    APPLY it queued (``None``: nothing new, or the stack is pinned by a rollback; with no new
    version: the latest one's, the stack had been deleted)."""

    version: StackVersion | None
    command: Command | None

    @property
    def pinned(self) -> bool:
        return self.version is not None and self.command is None


def record_and_enqueue(
    db: Database,
    desired: Loaded,
    *,
    root: Path,
    metadata: StackMetadata | None = None,
) -> Recorded:
    """Record ``desired`` as a new version and queue its APPLY in **one** transaction.

    Two transactions lost the APPLY when the process died between them: on restart the digest
    matched, nothing was queued, and the new version was never applied. A pinned stack gets the
    version recorded but no APPLY (``stackctl resume`` applies it).
    """
    with db.transaction():
        version = record_version(db, desired, root=root, metadata=metadata)
        if version is None:
            return Recorded(None, _restored(db, desired.name))
        if db.stacks.current_version(desired.name) != version.version:
            return Recorded(version, None)
        command = db.commands.enqueue(
            Command(
                stack_id=desired.name,
                type=CommandType.APPLY_STACK_VERSION,
                payload={"version": version.version},
            )
        )
        return Recorded(version, command)


def _restored(db: Database, name: str) -> Command | None:
    """The APPLY of a deleted stack's latest version when an unchanged manifest of it is
    applied again (``stackctl apply`` after ``stackctl delete``): it becomes current again, as
    the watcher does when a deleted stack's file comes back; ``None`` for a stack that has a
    desired version (nothing to restore)."""
    stack = db.stacks.get(name)
    latest = db.stack_versions.latest(name)
    if stack is None or stack.current_version is not None or latest is None:
        return None
    db.stacks.update(name, current_version=latest.version)
    db.events.add(
        Event(
            stack_id=name,
            reason="ManifestRestored",
            message=f"{name}: its manifest is applied again; applying {latest.version}",
        )
    )
    return db.commands.enqueue(
        Command(
            stack_id=name,
            type=CommandType.APPLY_STACK_VERSION,
            payload={"version": latest.version},
        )
    )


def record_and_enqueue_many(
    db: Database,
    items: Sequence[tuple[Loaded, StackMetadata | None]],
    *,
    root: Path,
) -> list[Recorded]:
    """``record_and_enqueue`` of each ``(desired, metadata)``, all in **one** transaction: each
    version still goes with its APPLY (a crash keeps all of them or none), and many stacks
    recorded at once (10,000 manifests dropped together) pay one commit, not one each."""
    with db.transaction():
        return [record_and_enqueue(db, d, root=root, metadata=m) for d, m in items]


def load_desired(db: Database, version: StackVersion) -> DesiredStack:
    """The ``DesiredStack`` a stored version describes, with its files' bytes."""
    data = version.compose.model_dump(mode="json")
    settings = data.pop(SETTINGS_KEY, None)
    data.pop("version", None)
    if settings is None:
        raise PermanentError(
            f"{version.stack_id} {version.version} was not recorded by stackctl's loader"
            " (no x-stackctl settings); record it from a manifest"
        )
    try:
        desired = DesiredStack.model_validate(
            {
                "name": version.stack_id,
                **settings,
                "compose": data,
                "source": version.metadata.source or "",
                "base": version.metadata.base or ".",
            }
        )
    except ValueError as e:
        raise PermanentError(f"{version.stack_id} {version.version} cannot be read: {e}") from e
    if desired.digest != version.digest:
        raise PermanentError(
            f"{version.stack_id} {version.version} does not match its digest (corrupted record)"
        )
    wanted = {
        ref.sha256
        for s in desired.compose.services.values()
        for ref in [*s.secrets, *s.configs]
        if ref.sha256
    } | sealed_blobs(desired)  # SOPS-encrypted env files, by their environment placeholders
    files = db.blobs.get_many(wanted)
    missing = wanted - files.keys()
    if missing:
        raise PermanentError(
            f"{version.stack_id} {version.version}: stored file contents missing: "
            + ", ".join(sorted(m[:12] for m in missing))
        )
    return desired.model_copy(update={"files": files})


def version_root(version: StackVersion, default: Path) -> Path:
    """The watched root the version was recorded from (``default`` when none was recorded)."""
    return Path(version.metadata.root) if version.metadata.root else default


def version_base(version: StackVersion, default: Path) -> Path:
    """The folder the version's relative host paths (bind mounts, build contexts) start from:
    its source folder under its root."""
    root = version_root(version, default)
    return root / version.metadata.base if version.metadata.base else root
