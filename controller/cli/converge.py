"""``stackctl apply``, ``diff`` and ``delete``: convergence now, in-process, without a daemon.

They go through the same path as the controller: record a version (when the digest changed),
enqueue a command, and let a ``Reconciler`` claim and run it, so the history and the logs are
the same whether a person or the daemon did it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import typer

from controller.cli.app import app
from controller.config import load_settings
from controller.db import Database
from controller.errors import StackctlError
from controller.models import Command, CommandStatus, CommandType, StackMetadata
from controller.planner import plan
from controller.reconciler import Reconciler, ReconcilerOptions
from controller.runtime import Engine
from controller.source import DesiredStack, load_path
from controller.versions import load_desired, record_version

DB_OPTION = typer.Option(None, "--db", help="Database file [default: storage/stackctl.db].")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _engine() -> Engine:
    try:
        engine = Engine()
        engine.ping()
        return engine
    except StackctlError as e:
        raise _fail(f"{e} (is dockerd running? DOCKER_HOST={_docker_host()})") from e


def _docker_host() -> str:
    return os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")


def _root(path: Path) -> Path:
    return path if path.is_dir() else path.parent


def _load(path: Path) -> tuple[dict[str, DesiredStack], int]:
    if not path.exists():
        raise _fail(f"{path}: no such file or directory", 2)
    result = load_path(path)
    for error in result.errors:
        typer.echo(error.render(), err=True)
    return result.stacks, len(result.errors)


@app.command()
def apply(
    path: Path = typer.Argument(..., help="A manifest file or a directory of them."),
    db: Path | None = DB_OPTION,
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Converge now, or only queue."),
    timeout: float = typer.Option(120.0, help="Seconds to wait for dependencies and health."),
) -> None:
    """Record new versions of the stacks at PATH and converge them now."""
    settings = load_settings({"db": db})
    stacks, errors = _load(path)
    engine = _engine() if wait else None  # before recording: nothing queued for no one
    with Database(db_path=settings.db) as database:
        commands: list[Command] = []
        for desired in stacks.values():
            version = record_version(
                database,
                desired,
                root=_root(path).absolute(),
                metadata=StackMetadata(created_by="stackctl apply"),
            )
            if version is None:
                current = database.stacks.require(desired.name).current_version
                typer.echo(f"{desired.name}: unchanged ({current})")
                kind, payload = CommandType.RECONCILE, {}
            else:
                typer.echo(
                    f"{desired.name}: recorded {version.version} (digest {desired.digest[:12]})"
                )
                kind, payload = CommandType.APPLY_STACK_VERSION, {"version": version.version}
            commands.append(
                database.commands.enqueue(
                    Command(stack_id=desired.name, type=kind, payload=payload)
                )
            )
        if engine is None:
            for command in commands:
                typer.echo(
                    f"queued command {command.command_id} ({command.type} {command.stack_id})"
                )
            raise typer.Exit(1 if errors else 0)
        finished = _run(database, engine, commands, settings.files_dir, timeout=timeout)
    failed = [c for c in finished if c.status is not CommandStatus.DONE]
    for command in finished:
        status = (
            "converged"
            if command.status is CommandStatus.DONE
            else (f"{command.status}: {command.error}")
        )
        typer.echo(f"{command.stack_id}: {status}")
    raise typer.Exit(1 if failed or errors else 0)


def _run(
    database: Database, engine: Engine, commands: list[Command], files_dir: Path, *, timeout: float
) -> list[Command]:
    """Run the queue until our commands have each had their attempt."""
    reconciler = Reconciler(
        database,
        engine,
        worker_id=f"cli-{time.time_ns()}",
        echo=typer.echo,
        options=ReconcilerOptions(files_dir=files_dir, wait_timeout=timeout),
    )
    ids = {c.command_id for c in commands}
    outcomes: dict[int, Command] = {}
    deadline = time.monotonic() + timeout + 60
    while ids - outcomes.keys() and time.monotonic() < deadline:
        outcome = reconciler.run_next()
        if outcome is None:
            pending = [database.commands.require(i) for i in ids - outcomes.keys()]
            for command in pending:
                if (
                    command.status
                    in (CommandStatus.DONE, CommandStatus.FAILED, CommandStatus.SUPERSEDED)
                    or command.not_before
                ):
                    outcomes[command.command_id] = command  # type: ignore[index]
            time.sleep(0.1)
        elif outcome.command.command_id in ids:
            outcomes[outcome.command.command_id] = outcome.command
    return [
        outcomes.get(c.command_id) or database.commands.require(c.command_id)  # type: ignore[arg-type]
        for c in commands
    ]


@app.command()
def diff(
    target: str = typer.Argument(..., help="A manifest path, or the name of a recorded stack."),
    db: Path | None = DB_OPTION,
) -> None:
    """Show the plan without executing it: exit 0 no differences, 1 differences, 2 error."""
    settings = load_settings({"db": db})
    path = Path(target)
    if path.exists():
        stacks, errors = _load(path)
        if errors:
            raise typer.Exit(2)
    else:
        if not settings.db.exists():
            raise _fail(f"{target}: no such file, and no database at {settings.db}", 2)
        with Database(db_path=settings.db) as database:
            stack = database.stacks.get(target)
            if stack is None or stack.current_version is None:
                raise _fail(f"{target}: neither a path nor a recorded stack", 2)
            version = database.stack_versions.require(target, stack.current_version)
            stacks = {target: load_desired(database, version)}
    engine = _engine()
    differences = 0
    for desired in stacks.values():
        refs = sorted(
            {s.image or f"{desired.name}-{n}" for n, s in desired.compose.services.items()}
        )
        try:
            the_plan = plan(desired, engine.observe(desired.name, images=refs))
        except StackctlError as e:
            raise _fail(str(e), 2) from e
        for problem in the_plan.problems:
            typer.echo(f"{desired.name}: cannot apply: {problem}")
        for step in the_plan.changes:
            typer.echo(f"{desired.name}: {step.describe()}")
        if the_plan.in_sync:
            typer.echo(f"{desired.name}: no differences")
        differences += len(the_plan.changes) + len(the_plan.problems)
    raise typer.Exit(1 if differences else 0)


@app.command()
def delete(
    stack: str = typer.Argument(..., help="The stack to tear down."),
    db: Path | None = DB_OPTION,
    volumes: bool = typer.Option(False, "--volumes", help="Also remove its named volumes."),
    timeout: float = typer.Option(120.0, help="Seconds to wait."),
) -> None:
    """Tear a stack down (containers, networks; volumes with --volumes), recording it."""
    settings = load_settings({"db": db})
    if not settings.db.exists():
        raise _fail(f"no database at {settings.db}")
    with Database(db_path=settings.db) as database:
        if database.stacks.get(stack) is None:
            raise _fail(f"no stack named {stack!r}")
        command = database.commands.enqueue(
            Command(
                stack_id=stack, type=CommandType.DELETE_STACK, payload={"remove_volumes": volumes}
            )
        )
        [finished] = _run(database, _engine(), [command], settings.files_dir, timeout=timeout)
    if finished.status is not CommandStatus.DONE:
        raise _fail(f"{stack}: {finished.status}: {finished.error}")
    typer.echo(f"{stack}: deleted")
