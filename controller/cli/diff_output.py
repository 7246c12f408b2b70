"""What ``stackctl diff`` adds to the plan: the field-level differences per service.

The plan says which containers are recreated and why in one line ("environment LOG_LEVEL
changed"); below it, ``diff`` lists each changed field with its old and new value, as
``kubectl diff`` does: the canonical service of the stack's applied version (what the engine
should be running, read from the database when there is one) against the desired one. It also
names the services left out because none of their profiles is active.
Secret-looking values and file contents are masked by ``service_changes`` itself. It never
writes: a missing or unusable database only means there is nothing to compare with.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from controller.cli.plain_io import echo

if TYPE_CHECKING:
    from controller.backends.docker.planner import Plan
    from controller.desired import DesiredStack


def applied_stack(db_path: Path, name: str) -> DesiredStack | None:
    """The stack's applied version (its current one when none was applied yet), or None."""
    from controller.db import Database
    from controller.sources.versions import load_desired

    if not db_path.exists():
        return None
    try:
        with Database(db_path=db_path) as database:
            stack = database.stacks.get(name)
            number = stack.applied_version or stack.current_version if stack else None
            version = database.stack_versions.get(name, number) if number else None
            return load_desired(database, version) if version is not None else None
    except Exception:  # an unusable database loses only the details; the plan stays right
        return None


def echo_field_changes(
    desired: DesiredStack, *, previous: DesiredStack | None, the_plan: Plan
) -> int:
    """Under the plan, ``NAME: SERVICE:`` and one indented line per changed field, for the
    services the plan changes and the applied version knows; returns the lines printed."""
    from controller.desired.differences import service_changes

    if previous is None:
        return 0
    touched = sorted({s.service for s in the_plan.changes if s.service})
    printed = 0
    for service in touched:
        old = previous.compose.services.get(service)
        new = desired.compose.services.get(service)
        changes = service_changes(old, new) if old is not None and new is not None else []
        if not changes:
            continue
        echo(f"{desired.name}: {service}:")
        for change in changes:
            echo(f"    {change.describe()}")
        printed += len(changes)
    return printed


def echo_disabled_services(desired: DesiredStack) -> None:
    """One line per service its profiles leave out: not a difference, but people look for it."""
    for service, profiles in sorted(desired.disabled_services.items()):
        echo(f"{desired.name}: {disabled_text(service, profiles)}")


def disabled_text(service: str, profiles: list[str]) -> str:
    return f"service {service} disabled (profiles: {', '.join(profiles)}; none active)"
