"""What a stack asks of delivery: where to notify, whether to roll back, image updates.

These settings come from a Stack manifest's ``spec`` (``notify``, ``rollback``, ``timeout``,
``imageUpdates``) and are part of the desired state: changing one records a new version, so
the history says when a stack started rolling back by itself or following its images. They
never reach the engine: no service's config hash depends on them, so a change recreates
nothing. Each is digested only when set (``DesiredStack.canonical_data``), so the digests of
stacks recorded before they existed stay valid.

A Repository's ``spec.commitStatus`` (``CommitStatus``) is here too: where the commits of its
versions get their status.

This module holds values only; the manifests read them and ``controller.delivery.notifications``
acts on them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Every kind of notification, in the order a deploy goes through them; a destination's filter
# names some of these (or their family: ``apply`` for ``apply.*``).
EVENT_KINDS = (
    "version.recorded",
    "apply.started",
    "apply.succeeded",
    "apply.failed",
    "health.degraded",
    "health.recovered",
    "drift.corrected",
    "rollback.done",
    "rollback.failed",
    "image.update",
    "manifest.invalid",
)
DEFAULT_IMAGE_UPDATE_INTERVAL = 600.0


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NotifyTarget(_Frozen):
    """One destination: an Apprise URL (``json://``, ``ntfy://``, ``mailto://``...) or the
    native signed webhook (``webhook+https://host/path?secret_file=...``), and the event kinds
    it wants (empty: all)."""

    url: str = Field(min_length=1)
    events: tuple[str, ...] = ()

    def wants(self, kind: str) -> bool:
        return not self.events or any(
            kind == event or kind.startswith(event + ".") or event == "*" for event in self.events
        )


class RollbackPolicy(_Frozen):
    """``spec.rollback``: ``on_failure`` applies the last version that converged healthy when
    a new version fails for good or is not healthy within the stack's timeout."""

    on_failure: bool = False


class ImageUpdates(_Frozen):
    """``spec.imageUpdates``: every ``interval`` seconds compare each service's tag in its
    registry with the running image, then ``notify`` or ``apply`` (record a version pinning the
    new digest)."""

    policy: Literal["notify", "apply"]
    interval: float = Field(default=DEFAULT_IMAGE_UPDATE_INTERVAL, gt=0)


# The events that are also notifications (``db.events`` adds the outbox message in the
# event's transaction): reason -> (kind, topic for coalescing or None). An event with a reason
# in ``SILENT_RESETS`` says nothing but resets its topic, so the next problem is said again.
EVENT_NOTIFICATIONS: dict[str, tuple[str, str | None]] = {
    "StackUnhealthy": ("health.degraded", "health"),
    "StackRecovered": ("health.recovered", "health"),
    "RolledBack": ("rollback.done", None),
    "RollbackFailed": ("rollback.failed", None),
    "ImageUpdateAvailable": ("image.update", None),
    "ImageUpdated": ("image.update", None),
    "ManifestInvalid": ("manifest.invalid", "manifest"),
}
SILENT_RESETS: dict[str, str] = {"ManifestFixed": "manifest"}


class CommitStatus(_Frozen):
    """A Repository's ``spec.commitStatus``: the forge whose commits get a status for the
    versions read from them. ``api_url`` and ``project`` default from the repository's URL
    (GitHub's API is ``https://api.github.com``); the token is read from ``token_file`` at
    each use, never kept."""

    provider: Literal["github", "gitea", "forgejo", "gitlab"]
    token_file: Path
    api_url: str | None = None
    project: str | None = None  # owner/name (GitLab: the project's path)
