"""The audit log as ``stackctl audit`` prints it (``AUDIT_COLUMNS``, ``audit_row``): the same
table from the local database (``audit_log.py``: ``AuditEntry`` values) and from a
controller's API (``remote/``: its JSON, read as attributes). No typer, no models here: the
surface and the result are printed as their text, whether enums or plain strings.
"""

from __future__ import annotations

from typing import Any

from controller.cli.output import short, timestamp

AUDIT_COLUMNS = (
    "WHEN", "WHO", "SURFACE", "ACTION", "STACK", "VERSION", "COMMAND", "RESULT", "DETAIL",
)  # fmt: skip


def audit_row(entry: Any) -> list[object]:
    """One entry as the table shows it: the moment in UTC, who (and through which token)."""
    return [
        timestamp(entry.at)[:19] + "Z",
        shown_who(entry),
        str(entry.surface),
        entry.action,
        entry.stack_id,
        entry.version,
        entry.command_id,
        str(entry.result),
        short(entry.detail, 80),
    ]


def shown_who(entry: Any) -> str:
    """``alice (token ci)`` for a person's token; ``token ci`` for a service token."""
    if entry.via is None or entry.who == f"token {entry.via}":
        return entry.who
    return f"{entry.who} (token {entry.via})"
