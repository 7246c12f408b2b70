"""``stackctl get``, ``history`` and ``command-logs`` (``describe`` is in ``describe.py``; the
containers' ``ps`` and ``logs`` in ``ps_and_logs.py``): what the controller knows, read-only.

They read through the repositories (and, for ``describe``, observe the engine when it answers)
and never write: no version, no command, no flag. A database that does not exist, an unknown
stack, version or command is one ``error:`` line and exit 1. Tables for people; ``-o json`` or
``-o yaml`` print the models' JSON form, the same as the HTTP API (``command-logs -o json``
prints one JSON object per line, so that it can be followed).
"""

from __future__ import annotations

import contextlib
import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from controller.cli import history_table, running
from controller.cli.app import app, get_app
from controller.cli.command_table import COMMANDS
from controller.cli.history_table import VERSIONS
from controller.cli.listing import (
    GET_OUTPUT_OPTION,
    WATCH_OPTION,
    GetOutput,
    print_listing,
)
from controller.cli.output import (
    OUTPUT_OPTION,
    Output,
    print_data,
    print_table,
    timestamp,
    to_plain,
)
from controller.cli.quick import PLAIN_OUTPUTS, STACKS, deleted
from controller.cli.running import (
    DB_OPTION,
    POLL_SECONDS,
    existing_database,
    fail,
    open_database,
)
from controller.models.enums import CommandStatus, CommandType

if TYPE_CHECKING:  # loaded when a command needs them: the CLI starts quickly
    from controller.db import Database
    from controller.models import Command, CommandLog
    from controller.models.stack import ListedStack


MAX_LIMIT = 500


@get_app.command("stacks")
def get_stacks(
    name: str | None = typer.Argument(None, help="Only this stack."),
    every: bool = typer.Option(False, "--all", "-A", help="Deleted stacks too (SYNC Deleted)."),
    watch: bool = WATCH_OPTION,
    db: Path | None = DB_OPTION,
    output: GetOutput = GET_OUTPUT_OPTION,
) -> None:
    """The stacks: desired and applied version, sync, health, suspended, pinned, age. Deleted
    stacks are left out unless --all (or named)."""
    if not watch and output in PLAIN_OUTPUTS.values():
        # The quick read: plain rows, no models (json/yaml print the models' own form).
        from controller.db.plain_reads import list_stacks

        found = list_stacks(existing_database(db), stack_id=name)
        if found is not None:
            if name is not None and not found:
                raise fail(f"no stack named {name!r}")
            print_listing(
                STACKS, lambda: [s for s in found if every or name or not deleted(s)], output
            )
            return
    with open_database(db) as database:
        if name is not None:
            database.stacks.require(name)

        def fetch() -> list[ListedStack]:
            from controller.models.stack import ListedStack

            found = (
                [database.stacks.require(name)]
                if name is not None
                else [s for s in database.stacks.list() if every or not deleted(s)]
            )
            engines = database.stack_versions.engines()
            return [ListedStack(**dict(s), engine=engines.get(s.stack_id)) for s in found]

        print_listing(STACKS, fetch, output, watch=watch)


@get_app.command("versions")
def get_versions(
    stack: str = typer.Argument(..., help="The stack."),
    watch: bool = WATCH_OPTION,
    db: Path | None = DB_OPTION,
    output: GetOutput = GET_OUTPUT_OPTION,
) -> None:
    """A stack's versions, oldest first (with -o json, each with its compose document)."""
    from controller.desired.shown import shown_version

    with open_database(db) as database:
        database.stacks.require(stack)
        print_listing(
            VERSIONS,
            lambda: [shown_version(v) for v in database.stack_versions.list(stack)],
            output,
            watch=watch,
        )


@get_app.command("commands")
def get_commands(
    stack: str | None = typer.Option(None, "--stack", help="Only this stack's commands."),
    status: CommandStatus | None = typer.Option(None, "--status", help="Only this status."),
    kind: CommandType | None = typer.Option(None, "--type", help="Only this type."),
    limit: int = typer.Option(20, "--limit", min=1, max=MAX_LIMIT, help="At most N, newest first."),
    cursor: str | None = typer.Option(None, "--cursor", help="The page after this cursor."),
    watch: bool = WATCH_OPTION,
    db: Path | None = DB_OPTION,
    output: GetOutput = GET_OUTPUT_OPTION,
) -> None:
    """The queue, newest first; the cursor of the next page (if any) is printed on stderr."""
    with open_database(db) as database:
        if stack is not None:
            database.stacks.require(stack)

        def fetch() -> list[Command]:
            return database.commands.list(
                stack_id=stack, status=status, type=kind, limit=limit, cursor=cursor
            ).items

        if watch:
            print_listing(COMMANDS, fetch, output, watch=True)
            return
        page = database.commands.list(
            stack_id=stack, status=status, type=kind, limit=limit, cursor=cursor
        )
    print_listing(COMMANDS, lambda: page.items, output)
    if page.next_cursor:
        typer.echo(f"more: --cursor {page.next_cursor}", err=True)


@app.command()
def history(
    stack: str = typer.Argument(..., help="The stack."),
    db: Path | None = DB_OPTION,
    output: Output = OUTPUT_OPTION,
) -> None:
    """A stack's versions with their lineage: parent, digest, who and why, which is applied."""
    with open_database(db) as database:
        current = database.stacks.require(stack)
        versions = database.stack_versions.list(stack)
    if output is not Output.TABLE:
        from controller.desired.shown import shown_version  # the table shows no compose

        print_data(
            [
                {
                    **to_plain(shown_version(v)),  # notification URLs masked
                    "applied": v.version == current.applied_version,
                    "current": v.version == current.current_version,
                }
                for v in versions
            ],
            output,
        )
        return
    print_table(history_table.COLUMNS, history_table.rows(current, versions))


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


@app.command("command-logs")
def command_logs(
    command_id: int | None = typer.Argument(None, help="The command whose lines to show."),
    stack: str | None = typer.Option(None, "--stack", help="The lines of this stack's commands."),
    last: int = typer.Option(5, "--last", min=1, help="With --stack: its last N commands."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines."),
    db: Path | None = DB_OPTION,
    output: LogFormat = typer.Option(LogFormat.TEXT, "--output", "-o", help="text or json."),
) -> None:
    """Show a command's log lines, or those of a stack's last commands.

    --follow keeps printing new lines: for a command until it ends, for a stack until ^C.
    (The containers' own output is `stackctl logs STACK`.)
    """
    if (command_id is None) == (stack is None):
        raise fail("give a COMMAND_ID or --stack STACK (one of them)", 2)
    with open_database(db) as database:
        if command_id is not None:
            commands = [database.commands.require(command_id)]
        else:
            database.stacks.require(stack)  # type: ignore[arg-type]
            commands = list(reversed(database.commands.list(stack_id=stack, limit=last).items))
        printer = _LogPrinter(database, output, with_id=stack is not None)
        for command in commands:
            printer.flush(command)
        if follow:
            # ^C ends a follow: it is how one stops `command-logs --stack --follow`.
            with contextlib.suppress(KeyboardInterrupt):
                printer.follow(commands, stack=stack)


class _LogPrinter:
    """Prints each command's lines once, in order, remembering where each one was."""

    def __init__(self, database: Database, output: LogFormat, *, with_id: bool) -> None:
        self._db, self._output, self._with_id = database, output, with_id
        self._after: dict[int, int] = {}

    def flush(self, command: Command) -> None:
        assert command.command_id is not None
        lines = self._db.command_logs.list(
            command.command_id, after_id=self._after.get(command.command_id, 0)
        )
        for line in lines:
            self._print(command, line)
            self._after[command.command_id] = line.log_id or 0

    def _print(self, command: Command, line: CommandLog) -> None:
        if self._output is LogFormat.JSON:
            typer.echo(json.dumps({**to_plain(line), "stack_id": command.stack_id}))
            return
        where = f"#{command.command_id} " if self._with_id else ""
        typer.echo(f"{timestamp(line.ts)} {where}{line.level:<7} {line.message}")

    def follow(self, commands: list[Command], *, stack: str | None) -> None:
        """Poll for new lines; a command ends the follow when it is finished, a stack never."""
        active = {c.command_id: c for c in commands if not c.status.terminal}
        newest = max((c.command_id or 0 for c in commands), default=0)
        while active or stack is not None:
            running.pause(POLL_SECONDS)  # looked up each time: tests step time through it
            if stack is not None:
                for c in reversed(self._db.commands.list(stack_id=stack, limit=50).items):
                    if (c.command_id or 0) > newest:
                        active[c.command_id] = c
                        newest = c.command_id or 0
            for command_id in sorted(active):  # type: ignore[type-var]
                current = self._db.commands.require(command_id)  # type: ignore[arg-type]
                self.flush(current)  # the status is read first: no line is left behind
                if current.status.terminal:
                    del active[command_id]
