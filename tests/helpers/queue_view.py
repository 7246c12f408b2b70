"""What the tests read of the queue: a stack's commands, oldest first."""

from controller.db import Database


def commands(db: Database, name: str) -> list[tuple[str, str]]:
    """``(type, status)`` of each command of ``name``, oldest first."""
    return [(c.type.value, c.status.value) for c in reversed(db.commands.list(stack_id=name).items)]
