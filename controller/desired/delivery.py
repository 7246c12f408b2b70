"""What a stack asks of delivery: where to notify, whether to roll back, image updates.

These settings come from a Stack manifest's ``spec`` (``notify``, ``rollback``, ``timeout``,
``imageUpdates``) and are part of the desired state: changing one records a new version, so
the history says when a stack started rolling back by itself or following its images. They
never reach the engine: no service's config hash depends on them, so a change recreates
nothing. Each is digested only when set (``DesiredStack.canonical_data``), so the digests of
stacks recorded before they existed stay valid.

This module holds values only; the manifest reads them and ``controller.delivery`` acts on them.
"""

from __future__ import annotations

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
