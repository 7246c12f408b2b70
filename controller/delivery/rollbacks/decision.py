"""The automatic rollback's decision (``spec.rollback.onFailure``): pure, like the planner.

Given plain facts about the stack and the version in trouble, ``decide_rollback`` says what to
do: nothing (with why), roll back to the newest version that was seen applied and Healthy, or
report that the rollback failed. It reads no clock and no database; the reconciler gathers the
facts, and ``operations.auto_rollback`` / ``operations.rollback_failed`` act on the answer.

The rules, in order (the first that applies wins):

1. A version that is no longer the stack's desired one is left alone (a newer one came).
2. A version recorded by an *automatic* rollback that fails (its apply fails for good, or it is
   not healthy in time) is a failed rollback: ``RollbackFailed``, and never a second rollback
   (no loops), whatever its own spec says (it is a copy of an older spec).
3. The version must ask for it (``onFailure``), the stack must not be suspended, and the
   version must not have been decided about before (one decision per version: resyncs that
   find it still failing say nothing more).
4. A version that was healthy once is not rolled back: its trouble now is the machine's or the
   engine's, not the version's (self-heal and the health status handle that).
5. A version recorded by ``stackctl rollback`` (an operator's choice) is not undone by itself.
6. No older version was ever healthy: ``RollbackFailed``, saying so; nothing else changes.
7. Otherwise: roll back to the newest version older than this one that was ever healthy.

What happens after a rollback is the pin's rule (docs/architecture.md, "Decisions the code
relies on"): the stack is pinned as by a manual rollback, so the version rolled back from is not
applied again until a newer version is made current by ``stackctl resume``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

AUTO_ROLLBACK_BY = "stackctl auto-rollback"  # StackMetadata.created_by of its versions
MANUAL_ROLLBACK_BY = "stackctl rollback"  # and "stackctl rollback by alice" (who asked)


class Action(StrEnum):
    NOTHING = "nothing"
    ROLL_BACK = "roll back"
    REPORT_FAILURE = "report failure"  # a RollbackFailed event, and nothing else


@dataclass(frozen=True)
class VersionFacts:
    """What the decision needs to know of the version in trouble."""

    version: str
    on_failure: bool  # its spec.rollback.onFailure
    healthy_before: bool  # seen applied and Healthy once
    created_by: str  # its metadata: AUTO_ROLLBACK_BY, a manual rollback's or anything else
    decided: bool  # a RolledBack or RollbackFailed event already names it
    rolled_back_from: str | None = None  # for an automatic rollback's version: the version
    rolled_back_to: str | None = None  #   it replaced, and the version whose spec it copies


@dataclass(frozen=True)
class Decision:
    action: Action
    why: str  # for people: the reason to roll back, or why nothing happens, or what failed
    target: str | None = None  # the version to roll back to (ROLL_BACK only)


def decide_rollback(
    *,
    failed: VersionFacts,
    trouble: str,
    current_version: str | None,
    suspended: bool,
    last_healthy: str | None,
) -> Decision:
    """What to do about ``failed`` (the stack's version in ``trouble``: "apply failed: ...",
    "web-1 is unhealthy after 3 s"). ``last_healthy``: the newest version older than it that
    was ever seen applied and Healthy."""
    label = failed.version
    if label != current_version:
        return Decision(Action.NOTHING, f"{label} is no longer the desired version")
    if failed.created_by == AUTO_ROLLBACK_BY:
        if failed.decided:
            return Decision(Action.NOTHING, f"{label}'s failed rollback was already reported")
        frm, to = failed.rolled_back_from or "?", failed.rolled_back_to or "?"
        return Decision(
            Action.REPORT_FAILURE,
            f"rollback from {frm} to {to} (as {label}) failed: {trouble};"
            " no further automatic rollback",
        )
    if not failed.on_failure:
        return Decision(Action.NOTHING, f"{label} does not ask for rollback.onFailure")
    if suspended:
        return Decision(Action.NOTHING, "the stack is suspended")
    if failed.decided:
        return Decision(Action.NOTHING, f"{label} was already decided about")
    if failed.healthy_before:
        return Decision(Action.NOTHING, f"{label} was healthy before: not a bad version")
    if manual_rollback(failed.created_by):
        return Decision(Action.NOTHING, f"{label} was chosen by `stackctl rollback`")
    if last_healthy is None:
        return Decision(
            Action.REPORT_FAILURE,
            f"cannot roll back from {label} ({trouble}):"
            f" no version before {label} was ever healthy",
        )
    return Decision(Action.ROLL_BACK, trouble, target=last_healthy)


def manual_rollback(created_by: str) -> bool:
    """Whether a version was recorded by ``stackctl rollback``: ``MANUAL_ROLLBACK_BY``, alone
    or naming who asked (``stackctl rollback by alice``, ``models.audit.authored``)."""
    return created_by == MANUAL_ROLLBACK_BY or created_by.startswith(f"{MANUAL_ROLLBACK_BY} by ")


def rolled_back_message(*, from_version: str, to_version: str, why: str) -> str:
    """``rolled back from v7 to v6: web-1 is unhealthy after 120 s``."""
    return f"rolled back from {from_version} to {to_version}: {why}"
