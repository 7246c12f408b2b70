"""``stackctl audit``: who changed what, newest first, read from the local database file.

Every change is there, whichever way it came: the API and the console (a person, a token),
webhooks, and this command line (``local:<user>``); refusals too (``denied``: the role did
not allow it; ``refused``: the state did not; ``failed``). Filters: ``--stack``, ``--who``,
``--since 24h`` or ``--since 2026-12-01T00:00Z``. Entries are kept ``--audit-days`` (365 by
default), longer than commands; nothing else deletes them. ``AUDIT_COLUMNS`` and
``audit_row`` are the table, for any command that prints entries.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from controller.cli.app import app
from controller.cli.output import OUTPUT_OPTION, Output, print_data, print_table, short, timestamp
from controller.cli.running import DB_OPTION, open_database
from controller.models.durations import parse_since

if TYPE_CHECKING:
    from controller.models.audit import AuditEntry

AUDIT_COLUMNS = (
    "WHEN", "WHO", "SURFACE", "ACTION", "STACK", "VERSION", "COMMAND", "RESULT", "DETAIL",
)  # fmt: skip
MAX_LIMIT = 1000


@app.command()
def audit(
    stack: str | None = typer.Option(None, "--stack", help="Only the entries of this stack."),
    who: str | None = typer.Option(
        None, "--who", help="Only this identity's (alice, token ci, local:root...)."
    ),
    since: str | None = typer.Option(
        None, "--since", help="Only entries since: 24h, 7d... ago, or 2026-12-01T00:00Z."
    ),
    limit: int = typer.Option(50, "--limit", min=1, max=MAX_LIMIT, help="At most this many."),
    db: Path | None = DB_OPTION,
    output: Output = OUTPUT_OPTION,
) -> None:
    """Who changed what, newest first: the audit log of the API, the console, webhooks and
    this command line.

    Refusals are listed too (RESULT denied, refused or failed)."""
    with open_database(db) as database:
        moment = None
        if since is not None:
            try:
                moment = parse_since(since, now=database.clock())
            except ValueError as e:
                raise typer.BadParameter(str(e), param_hint="--since") from e
        page = database.audit.list(stack_id=stack, who=who, since=moment, limit=limit)
    if output is not Output.TABLE:
        print_data(page.items, output)
    else:
        print_table(AUDIT_COLUMNS, [audit_row(entry) for entry in page.items])
    if page.next_cursor is not None:
        more = (
            f"--limit {min(limit * 2, MAX_LIMIT)} shows more"
            if limit < MAX_LIMIT
            else "--since or --stack narrows the list"
        )
        typer.echo(f"older entries left out: {more}", err=True)


def audit_row(entry: AuditEntry) -> list[object]:
    """One entry as the table shows it: the moment in UTC, who (and through which token)."""
    return [
        timestamp(entry.at)[:19] + "Z",
        shown_who(entry),
        entry.surface.value,
        entry.action,
        entry.stack_id,
        entry.version,
        entry.command_id,
        entry.result.value,
        short(entry.detail, 80),
    ]


def shown_who(entry: AuditEntry) -> str:
    """``alice (token ci)`` for a person's token; ``token ci`` for a service token."""
    if entry.via is None or entry.who == f"token {entry.via}":
        return entry.who
    return f"{entry.who} (token {entry.via})"
