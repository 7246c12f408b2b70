"""What ``stackctl diff`` says of one stack, as lines: the plan's changes against what the
engine runs, the reasons it cannot run, and under them each changed field of each service
against the applied version (``kubectl diff``'s detail), then the services its profiles leave
out. The same lines whether the command line asks an engine itself (``cli/converging.py``) or
the controller does for it (``stackctl --server URL diff``: ``daemon/api.py``).

It observes (the engine answers, or a ``StackctlError`` says why not) and plans; it never
carries anything out. Secret-looking values and file contents are masked by
``service_changes`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from controller.backends.docker.planner import Plan
    from controller.backends.engines import AnyEngine
    from controller.desired import DesiredStack


@dataclass(frozen=True)
class Differences:
    """The lines to print, and how many differences they are (changes and problems: the
    detail lines under them do not count)."""

    lines: list[str]
    count: int


def differences(
    desired: DesiredStack,
    *,
    engine: AnyEngine,
    adopt: bool = False,
    previous: DesiredStack | None = None,
) -> Differences:
    """The plan of ``desired`` on ``engine``; ``previous`` (the applied version) details the
    changed fields. Raises the engine's ``StackctlError`` when it cannot be asked."""
    if previous is not None and previous.engine != desired.engine:
        previous = None  # a move: nothing of the applied version runs on the new engine
    observed = engine.observe_stack(desired)
    the_plan = engine.plan(desired, observed, previous=previous, adopt=adopt)
    problems = [*the_plan.problems, *engine.problems(desired)]
    name = desired.name
    lines = [f"{name}: cannot apply: {problem}" for problem in problems]
    lines += [f"{name}: {step.describe()}" for step in the_plan.changes]
    lines += field_lines(desired, previous=previous, the_plan=the_plan)
    lines += [
        f"{name}: {disabled_text(service, profiles)}"
        for service, profiles in sorted(desired.disabled_services.items())
    ]
    if not the_plan.changes and not problems:
        lines.append(f"{name}: no differences")
    return Differences(lines, len(the_plan.changes) + len(problems))


def field_lines(
    desired: DesiredStack, *, previous: DesiredStack | None, the_plan: Plan
) -> list[str]:
    """``NAME: SERVICE:`` and one indented line per changed field, for the services the plan
    changes and the applied version knows."""
    from controller.desired.differences import service_changes

    if previous is None:
        return []
    lines = []
    for service in sorted({s.service for s in the_plan.changes if s.service}):
        old = previous.compose.services.get(service)
        new = desired.compose.services.get(service)
        changes = service_changes(old, new) if old is not None and new is not None else []
        if changes:
            lines.append(f"{desired.name}: {service}:")
            lines += [f"    {change.describe()}" for change in changes]
    return lines


def disabled_text(service: str, profiles: list[str]) -> str:
    """A service its profiles leave out: not a difference, but people look for it."""
    return f"service {service} disabled (profiles: {', '.join(profiles)}; none active)"
