"""The Kubernetes-style conditions of a stack (``stack_conditions``): what ``stackctl
describe``, the API and the console show first.

Pure and without pydantic: a stack is read through its fields (a ``controller.models.Stack``
or the plain row the CLI's quick ``describe`` reads, ``db.plain_reads.StackView``), its
statuses compared by value (``SyncStatus`` and the others are ``StrEnum``s); the desired
version through ``version`` and ``metadata.created_by``/``comment``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from controller.delivery.rollbacks.decision import AUTO_ROLLBACK_BY
from controller.models.enums import HealthStatus, Suspension, SyncStatus
from controller.models.version_label import version_number

if TYPE_CHECKING:
    from controller.models import Stack


@dataclass(frozen=True)
class Condition:
    """One Kubernetes-style condition: ``type`` is ``True``/``False`` because of ``reason``."""

    type: str
    status: bool
    reason: str
    message: str = ""


def stack_conditions(
    stack: Stack | Any, *, latest_version: str | None, current: Any = None
) -> list[Condition]:
    """What an operator asks first: is it synced, healthy, suspended, pinned, up to date?
    ``current`` (the desired version, when the caller has it) lets a pin made by the automatic
    rollback say why: "rolled back from v7 to v6: web-1 is unhealthy after 120 s". ``stack``: a
    ``Stack`` or a ``StackView``; ``current``: a ``StackVersion`` or a ``VersionView``."""
    synced = (
        stack.sync_status == SyncStatus.SYNCED
        and stack.applied_version is not None
        and stack.applied_version == stack.current_version
    )
    sync_message = (
        f"applied {stack.applied_version or 'nothing'}, desired {stack.current_version or 'none'}"
    )
    newer = (
        latest_version is not None
        and stack.current_version is not None
        and version_number(latest_version) > version_number(stack.current_version)
    )
    automatic = (
        stack.pinned
        and current is not None
        and current.version == stack.current_version
        and current.metadata.created_by == AUTO_ROLLBACK_BY
    )
    held = (
        f"held at {stack.current_version}; newer versions up to {latest_version} are"
        " recorded, not applied, until `stackctl resume`"
        if stack.pinned and newer
        else "held by a rollback until `stackctl resume`"
        if stack.pinned
        else ""
    )
    if automatic:
        assert current is not None
        held = f"{current.metadata.comment} (automatic, as {current.version}); {held}"
    return [
        Condition("Synced", synced, str(stack.sync_status), sync_message),
        Condition(
            "Healthy",
            stack.health_status == HealthStatus.HEALTHY,
            str(stack.health_status),
            stack.last_error or "",
        ),
        _suspended(stack),
        Condition(
            "Pinned",
            stack.pinned,
            ("RolledBackAutomatically" if automatic else "RolledBack")
            if stack.pinned
            else "FollowsFiles",
            held,
        ),
        Condition(
            "LatestIsCurrent",
            not newer,
            "UpToDate" if not newer else "NewerVersionRecorded",
            f"latest recorded version is {latest_version}" if newer else "",
        ),
    ]


# Who suspended a stack -> (the condition's reason, what lifts it).
_SUSPENSIONS = {
    Suspension.OPERATOR: ("SuspendedByOperator", "`stackctl resume`"),
    Suspension.MANIFEST: ("SuspendedByManifest", "its manifest says `suspend: false`"),
}


def _suspended(stack: Stack | Any) -> Condition:
    """Suspended by the operator, by its manifest, or both (then both must lift it)."""
    if not stack.suspended:
        return Condition("Suspended", False, "Active", "")
    reasons, lifts = zip(*(_SUSPENSIONS[who] for who in stack.suspended_by), strict=True)
    return Condition(
        "Suspended",
        True,
        "And".join(reasons),
        f"nothing changes at runtime until {' and '.join(lifts)}",
    )
