"""``stackctl apply``, ``diff`` and ``delete``: convergence now, in-process, without a daemon.

Their bodies are in ``converging.py`` (no typer: the quick path runs them too). They go
through the same path as the controller: record a version (when the digest changed),
enqueue a command, and let a ``Reconciler`` claim and run it, so the history and the logs are
the same whether a person or the daemon did it. ``apply`` and ``diff`` act on the engine each
stack targets, declared in the engines file (``--engines``, ``STACKCTL_ENGINES``: ``targets``);
``diff`` plans a Swarm stack with the Swarm planner, as the reconciler does.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from controller.cli.app import app
from controller.cli.running import (
    DB_OPTION,
    ENGINES_OPTION,
    TIMEOUT_OPTION,
    database_paths,
    engine_specs,
    fail,
    wait_for,
    wait_option,
)
from controller.models.enums import CommandStatus, CommandType

if TYPE_CHECKING:  # loaded when a command runs: the CLI starts quickly
    from controller.db import Database
    from controller.models import Command


@app.command()
def apply(
    path: Path = typer.Argument(..., help="A manifest file or a directory of them."),
    db: Path | None = DB_OPTION,
    wait: bool = wait_option(True),
    timeout: float = TIMEOUT_OPTION,
    adopt: bool = typer.Option(
        False, "--adopt", help="Take over what `docker compose` made in these projects."
    ),
    engines: Path | None = ENGINES_OPTION,
) -> None:
    """Record new versions of the stacks at PATH and converge them now.

    Each on the engine it targets (declared in --engines FILE)."""
    from controller.cli.converging import apply_path

    apply_path(
        path, db=db, wait=wait, timeout=timeout, adopt=adopt, specs=lambda: engine_specs(engines)
    )


@app.command()
def diff(
    target: str = typer.Argument(..., help="A manifest path, or the name of a recorded stack."),
    db: Path | None = DB_OPTION,
    adopt: bool = typer.Option(
        False, "--adopt", help="Plan as `apply --adopt` would (take over Compose's objects)."
    ),
    engines: Path | None = ENGINES_OPTION,
) -> None:
    """Show the plan without executing it: exit 0 no differences, 1 differences, 2 error.

    Planned on the engine the stack targets (declared in --engines FILE), a Swarm stack with
    the Swarm planner."""
    from controller.cli.converging import diff_target

    diff_target(target, db=db, adopt=adopt, specs=lambda: engine_specs(engines))


@app.command()
def delete(
    stack: str = typer.Argument(..., help="The stack to tear down."),
    db: Path | None = DB_OPTION,
    volumes: bool = typer.Option(False, "--volumes", help="Also remove its named volumes."),
    wait: bool = wait_option(True),
    timeout: float = TIMEOUT_OPTION,
    engines: Path | None = ENGINES_OPTION,
) -> None:
    """Tear a stack down (containers, networks; volumes with --volumes), recording it.

    Run here (no controller running): on the engine the stack ran on (declared in --engines
    FILE)."""
    from controller.cli.local_actor import local_actor
    from controller.cli.targets import connect_engines, stack_engines
    from controller.commands.audited import audited
    from controller.db import Database
    from controller.models.errors import NotFoundError

    settings = database_paths(db)
    if not settings.db.exists():
        raise fail(f"no database at {settings.db}")
    with Database(db_path=settings.db) as database:
        try:
            command = audited(
                database,
                local_actor(),
                "delete",
                lambda: _enqueue_delete(database, stack, volumes=volumes),
                stack_id=stack,
            )
        except NotFoundError as e:
            raise fail(str(e)) from e
        if not wait:  # the controller deletes it, or the next `stackctl ... --wait` here
            typer.echo(f"{stack}: queued command {command.command_id} ({command.type})")
            return
        # The running controller deletes it when there is one (its command for the stack is
        # stopped and its pending ones superseded by the DELETE); otherwise it runs here.
        specs = engine_specs(engines)
        finished = wait_for(
            database,
            command,
            files_dir=settings.files_dir,
            timeout=timeout,
            echo=typer.echo,
            engines=lambda: connect_engines(specs, targets=stack_engines(database, stack, specs)),
        )
    if finished.status is not CommandStatus.DONE:
        still = "" if finished.status.terminal else f" after {timeout:g}s"
        raise fail(
            f"{stack}: delete (command {finished.command_id}) is {finished.status}{still}"
            + (f": {finished.error}" if finished.error else "")
        )
    typer.echo(f"{stack}: deleted")


def _enqueue_delete(database: Database, stack: str, *, volumes: bool) -> Command:
    """The stack's DELETE, queued; ``NotFoundError`` for a stack never recorded."""
    from controller.models import Command
    from controller.models.errors import NotFoundError

    if database.stacks.get(stack) is None:
        raise NotFoundError(f"no stack named {stack!r}")
    return database.commands.enqueue(
        Command(stack_id=stack, type=CommandType.DELETE_STACK, payload={"remove_volumes": volumes})
    )
