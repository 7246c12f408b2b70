"""``stackctl rollback``, ``suspend``, ``resume``, ``sync``, ``move`` and ``cancel``: steer a
stack.

Each one is a ``controller.commands.operations`` action: it flips the stack's flags and/or
records a version, enqueues a command and prints its id; nothing here touches the engine, so
they work while ``stackctl run`` is running. Each is recorded in the audit log in its
transaction, as ``local:<user>`` (``local_actor``; a refused one too: ``commands.audited``).
``--wait`` follows the command to its end (exit 0 when DONE, 1 otherwise), printing its log
lines; with no controller running it runs the command here, on the engines the stack's
versions target (declared in ``--engines FILE``, as ``run`` reads it). ``-o json|yaml`` prints
the command (its final state with ``--wait``); the rest goes to stderr.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import typer

from controller.cli.app import app
from controller.cli.output import OUTPUT_OPTION, Output, print_data
from controller.cli.running import (
    DB_OPTION,
    ENGINES_OPTION,
    TIMEOUT_OPTION,
    WAIT_OPTION,
    engine_specs,
    fail,
    open_database,
    outcome_line,
    wait_for,
)
from controller.config.settings import load_settings
from controller.models.enums import CommandStatus

if TYPE_CHECKING:  # loaded when a command needs them: the CLI starts quickly
    from controller.db import Database
    from controller.models import Command
    from controller.models.audit import Actor

Act = Callable[[ModuleType, "Database", "Actor"], "tuple[Command, str]"]

STACK_ARGUMENT = typer.Argument(..., help="The stack.")


@app.command()
def rollback(
    stack: str = STACK_ARGUMENT,
    version: str | None = typer.Argument(
        None,
        help="The version to go back to (v3 or 3) [default: the last one applied before"
        " the current one].",
    ),
    wait: bool = WAIT_OPTION,
    timeout: float = TIMEOUT_OPTION,
    db: Path | None = DB_OPTION,
    output: Output = OUTPUT_OPTION,
    engines: Path | None = ENGINES_OPTION,
) -> None:
    """Apply an older version again, recorded as a new one, and pin the stack.

    While pinned, file changes are recorded as versions but not applied until
    `stackctl resume STACK`.
    """

    def act(operations: ModuleType, database: Database, actor: Actor) -> tuple[Command, str]:
        command = operations.rollback(database, stack, version, actor=actor)
        new, old = command.payload["version"], command.payload["rollback_to"]
        return command, (
            f"{stack}: rolled back to {old} as {new}; pinned until `stackctl resume {stack}`\n"
            + _queued(command)
        )

    _act(act, "rollback", stack, db=db, wait=wait, timeout=timeout, output=output, engines=engines)


@app.command()
def suspend(
    stack: str = STACK_ARGUMENT,
    wait: bool = WAIT_OPTION,
    timeout: float = TIMEOUT_OPTION,
    db: Path | None = DB_OPTION,
    output: Output = OUTPUT_OPTION,
    engines: Path | None = ENGINES_OPTION,
) -> None:
    """Stop converging the stack: nothing changes at runtime (drift included) until resumed."""

    def act(operations: ModuleType, database: Database, actor: Actor) -> tuple[Command, str]:
        command = operations.suspend(database, stack, actor=actor)
        return command, f"{stack}: suspended\n{_queued(command)}"

    _act(act, "suspend", stack, db=db, wait=wait, timeout=timeout, output=output, engines=engines)


@app.command()
def resume(
    stack: str = STACK_ARGUMENT,
    wait: bool = WAIT_OPTION,
    timeout: float = TIMEOUT_OPTION,
    db: Path | None = DB_OPTION,
    output: Output = OUTPUT_OPTION,
    engines: Path | None = ENGINES_OPTION,
) -> None:
    """Unpin and unsuspend the stack and apply its latest recorded version."""

    def act(operations: ModuleType, database: Database, actor: Actor) -> tuple[Command, str]:
        command = operations.resume(database, stack, actor=actor)
        return command, (
            f"{stack}: resumed; applying {command.payload['version']}\n{_queued(command)}"
        )

    _act(act, "resume", stack, db=db, wait=wait, timeout=timeout, output=output, engines=engines)


@app.command()
def move(
    stack: str = STACK_ARGUMENT,
    engine: str | None = typer.Argument(
        None, help="The engine it moves to, as a check: refused unless the manifest targets it."
    ),
    wait: bool = WAIT_OPTION,
    timeout: float = TIMEOUT_OPTION,
    db: Path | None = DB_OPTION,
    output: Output = OUTPUT_OPTION,
    engines: Path | None = ENGINES_OPTION,
) -> None:
    """Move the stack to the engine its manifest now targets (spec.target.engine).

    It is torn down on the engine it runs on (its volumes and their data stay there) and
    created on the new one. A change of engine is never carried out without this. ENGINE,
    when given, must be the engine the manifest targets.
    """

    def act(operations: ModuleType, database: Database, actor: Actor) -> tuple[Command, str]:
        command = operations.move(database, stack, engine, actor=actor)
        moving = command.payload["move"]
        return command, (
            f"{stack}: moving from engine {moving['from']} to {moving['to']}\n" + _queued(command)
        )

    _act(act, "move", stack, db=db, wait=wait, timeout=timeout, output=output, engines=engines)


@app.command()
def sync(
    stack: str | None = typer.Argument(None, help="The stack."),
    repository: str | None = typer.Option(
        None, "--repository", help="Fetch this git repository now instead."
    ),
    wait: bool = WAIT_OPTION,
    timeout: float = TIMEOUT_OPTION,
    db: Path | None = DB_OPTION,
    output: Output = OUTPUT_OPTION,
    engines: Path | None = ENGINES_OPTION,
) -> None:
    """Reconcile the stack now: observe the engine and correct drift; or, with
    --repository NAME, have the running controller fetch that repository now.

    A command already pending for the stack is reused (it converges the stack anyway).
    """
    if (stack is None) == (repository is None):
        raise fail("give a stack, or --repository NAME")
    if repository is not None:
        from controller.cli.repositories import fetch_now

        fetch_now(repository, db=db, wait=wait, timeout=timeout)
        return

    def act(operations: ModuleType, database: Database, actor: Actor) -> tuple[Command, str]:
        command, created = operations.request_sync(database, stack)
        if created:
            return command, f"{stack}: {_queued(command)}"
        return command, (
            f"{stack}: command {command.command_id} ({command.type}) already pending;"
            " it reconciles the stack"
        )

    _act(act, "sync", stack, db=db, wait=wait, timeout=timeout, output=output, engines=engines)


@app.command()
def cancel(
    command_id: int = typer.Argument(..., help="The command to stop."),
    wait: bool = WAIT_OPTION,
    timeout: float = TIMEOUT_OPTION,
    db: Path | None = DB_OPTION,
    output: Output = OUTPUT_OPTION,
) -> None:
    """Stop a command: a pending or backing-off one now, a running one at its next step.

    With --wait, follow a running command until its worker has stopped it (exit 0 once it
    is CANCELLED, 1 if it ended otherwise first).
    """
    from controller.cli.local_actor import local_actor
    from controller.cli.running import fail, follow_command
    from controller.commands import operations
    from controller.commands.audited import audited
    from controller.models.errors import ConflictError

    table = output is Output.TABLE
    actor = local_actor()
    with open_database(db) as database:
        asked = database.commands.get(command_id)  # its stack, for a refusal's entry too
        try:
            command = audited(
                database,
                actor,
                "cancel",
                lambda: operations.cancel(database, command_id, actor=actor),
                stack_id=asked.stack_id if asked is not None else None,
            )
        except ConflictError as e:
            raise fail(str(e)) from e
        if command.status is CommandStatus.CANCELLED:
            typer.echo(f"{command.stack_id}: command {command_id} cancelled", err=not table)
        else:
            typer.echo(
                f"{command.stack_id}: command {command_id} is RUNNING; asked to stop at its"
                " next step",
                err=not table,
            )
            if wait:
                command = follow_command(
                    database,
                    command,
                    timeout=timeout,
                    echo=lambda line: typer.echo(line, err=not table),
                )
                typer.echo(outcome_line(command), err=not table)
    if not table:
        print_data(command, output)
    if wait and command.status is not CommandStatus.CANCELLED:
        raise typer.Exit(1)


def _queued(command: Command) -> str:
    return f"queued command {command.command_id} ({command.type})"


def _act(
    act: Act,
    action: str,
    stack: str,
    *,
    db: Path | None,
    wait: bool,
    timeout: float,
    output: Output,
    engines: Path | None = None,
) -> None:
    """Run ``act`` with ``controller.commands.operations`` (loaded here, not at start-up) and
    its audit entry (``action`` on ``stack`` by ``local_actor``) in one transaction, say what
    it did and which command it queued, and follow it if asked. Run here (no controller), the
    command reaches the engines its stack's versions target, declared in ``engines``."""
    from controller.cli.local_actor import local_actor
    from controller.cli.targets import connect_engines, stack_engines
    from controller.commands import operations
    from controller.commands.audited import audited

    table = output is Output.TABLE
    actor = local_actor()
    with open_database(db) as database:
        said: list[str] = []

        def run() -> Command:
            command, text = act(operations, database, actor)
            said.append(text)
            return command

        command = audited(database, actor, action, run, stack_id=stack)
        typer.echo(said[0], err=not table)
        if wait:
            specs, stack = engine_specs(engines), command.stack_id
            command = wait_for(
                database,
                command,
                files_dir=load_settings({"db": db}).files_dir,
                timeout=timeout,
                echo=lambda line: typer.echo(line, err=not table),
                engines=lambda: connect_engines(
                    specs, targets=stack_engines(database, stack, specs)
                ),
            )
            typer.echo(outcome_line(command), err=not table)
            if not command.status.terminal:
                typer.echo(
                    f"still {command.status} after {timeout:g}s; follow it with"
                    f" `stackctl command-logs {command.command_id} --follow`",
                    err=True,
                )
    if not table:
        print_data(command, output)
    if wait and command.status is not CommandStatus.DONE:
        raise typer.Exit(1)
