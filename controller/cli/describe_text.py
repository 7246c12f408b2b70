"""What ``stackctl describe STACK`` prints, from the stack's details (the models, or the plain
rows of ``db.plain_details``) and the backend's tables: shared by the typer command
(``describe.py``, writing with ``typer.echo``) and the quick one (``quick_describe.py``, with
``output.echo``), so that both print the same lines. No typer, no models here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from controller.cli.output import age, duration, print_table, short, timestamp

if TYPE_CHECKING:
    from controller.backends.interface import Table

Echo = Callable[[str], None]


def print_details(
    details: Mapping[str, Any], tables: Sequence[Table], *, note: str | None, echo: Echo
) -> None:
    """The stack's fields and conditions, the backend's ``tables`` (the first with ``note``),
    its last commands and recent events."""
    print_fields(
        details["stack"],
        latest=details["latest_version"],
        source=details["source"],
        engine=details["engine"],
        echo=echo,
    )
    print_conditions(details["conditions"], echo=echo)
    print_tables(tables, note=note, echo=echo)
    print_commands(details["commands"], echo=echo)
    print_events(details["events"], echo=echo)


def print_tables(tables: Sequence[Table], *, note: str | None = None, echo: Echo) -> None:
    """A backend's tables: each under its heading (and ``note``, on the first), indented."""
    for i, table in enumerate(tables):
        if table.heading is not None:
            shown = f"{table.heading}: {note}" if note and i == 0 else f"{table.heading}:"
            echo(shown)
        print_table(table.headers, table.rows, indent=2 if table.heading is not None else 0)


def print_fields(
    s: Any, *, latest: str | None, source: str | None, engine: str | None, echo: Echo
) -> None:
    """``s``: a ``Stack`` or a ``StackView``."""
    fields = [
        ("Name", s.name),
        ("Desired", f"{s.current_version or '-'} (latest recorded: {latest or '-'})"),
        ("Applied", s.applied_version or "-"),
        ("Engine", engine or "-"),
        ("Sync", s.sync_status),
        ("Health", s.health_status),
        ("Suspended", suspension(s)),
        ("Pinned", f"yes: resume with `stackctl resume {s.name}`" if s.pinned else "no"),
        ("Source", source or "-"),
        ("Last error", s.last_error or "-"),
        ("Created", f"{timestamp(s.created_at)} ({age(s.created_at)} ago)"),
        ("Updated", f"{timestamp(s.updated_at)} ({age(s.updated_at)} ago)"),
    ]
    for label, value in fields:
        echo(f"{label + ':':<12}{value}")


def suspension(s: Any) -> str:
    """``yes (stackctl suspend)``, ``yes (spec.suspend in its manifest)``, both, or ``no``."""
    ways = {"operator": "stackctl suspend", "manifest": "spec.suspend in its manifest"}
    return f"yes ({'; '.join(ways[who] for who in s.suspended_by)})" if s.suspended else "no"


def print_conditions(conditions: Sequence[Any], *, echo: Echo) -> None:
    echo("Conditions:")
    print_table(
        ["TYPE", "STATUS", "REASON", "MESSAGE"],
        [[c.type, str(c.status), c.reason, c.message] for c in conditions],
        indent=2,
    )


def print_commands(commands: Sequence[Any], *, echo: Echo) -> None:
    """``commands``: ``Command``s or ``CommandView``s, newest first."""
    echo("Last commands:")
    print_table(
        ["ID", "TYPE", "STATUS", "AGE", "DURATION", "ERROR"],
        [
            [
                c.command_id,
                c.type,
                c.status,
                age(c.created_at),
                duration(c.started_at, c.ended_at),
                short(c.error),
            ]
            for c in commands
        ],
        indent=2,
    )


def print_events(events: Sequence[Any], *, echo: Echo) -> None:
    """``events``: ``Event``s or ``EventView``s, newest first."""
    echo("Recent events:")
    print_table(
        ["AGE", "LEVEL", "REASON", "MESSAGE"],
        [[age(e.ts), e.level, e.reason, short(e.message, 120)] for e in events],
        indent=2,
    )


def provenance(metadata: Any) -> str:
    """``stacks/web.yaml of repository infra (main) at <commit> by <author>: <subject>``
    (``metadata``: a ``StackMetadata`` or a ``MetadataView``)."""
    where = metadata.source or "-"
    if metadata.git_repository is not None:
        where += f" of repository {metadata.git_repository} ({metadata.git_ref})"
    if metadata.git_commit:
        where += f" at {metadata.git_commit[:12]}"
        if metadata.git_author:
            where += f" by {metadata.git_author}"
        if metadata.git_subject:
            where += f": {short(metadata.git_subject, 60)}"
    return where
