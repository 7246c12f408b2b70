"""What ``stackctl diff`` compares the files with besides the engine: the stack's applied
version (``applied_stack``), read from the database when there is one, whose canonical services
the field-level lines are made against (``controller.backends.differences``, which also says
the services left out by their profiles: ``disabled_text``). It never writes: a missing or
unusable database only means there is nothing to compare with.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from controller.backends.differences import disabled_text

if TYPE_CHECKING:
    from controller.desired import DesiredStack

__all__ = ["applied_stack", "disabled_text"]


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
