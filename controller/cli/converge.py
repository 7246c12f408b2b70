"""``stackctl apply``, ``diff`` and ``delete``: convergence now, in-process, without a daemon.

They go through the same path as the controller: record a version (when the digest changed),
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
from controller.cli.diff_output import applied_stack, echo_disabled_services, echo_field_changes
from controller.cli.running import (
    DB_OPTION,
    ENGINES_OPTION,
    TIMEOUT_OPTION,
    database_paths,
    engine_specs,
    fail,
    run_commands,
    wait_for,
    wait_option,
)
from controller.models.enums import CommandStatus, CommandType, HealthStatus
from controller.models.errors import StackctlError

if TYPE_CHECKING:  # the layers below load when a command runs: the CLI starts quickly
    from controller.backends.engines import AnyEngine
    from controller.db import Database
    from controller.desired import DesiredStack
    from controller.models import Command, Stack


def _root(path: Path) -> Path:
    return path if path.is_dir() else path.parent


def _load(path: Path) -> tuple[dict[str, DesiredStack], int]:
    from controller.cli.running import manifest_reach
    from controller.sources.loader import load_path

    if not path.exists():
        raise fail(f"{path}: no such file or directory", 2)
    result = load_path(path, reach=manifest_reach())
    for warning in result.warnings:
        typer.echo(f"warning: {warning.render()}", err=True)
    for error in result.errors:
        typer.echo(error.render(), err=True)
    return result.stacks, len(result.errors)


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
    from controller.cli.targets import connect_engines, require_declared
    from controller.db import Database

    settings = database_paths(db)
    stacks, errors = _load(path)
    engine = None
    if wait:  # before recording: nothing queued for no one
        specs = engine_specs(engines)
        targets = {d.name: d.engine for d in stacks.values()}
        require_declared(targets, specs)
        engine = connect_engines(specs, targets=targets.values())
    with Database(db_path=settings.db) as database:
        commands = [
            _record(database, d, root=_root(path).absolute(), adopt=adopt) for d in stacks.values()
        ]
        if engine is None:
            for command in commands:
                typer.echo(
                    f"queued command {command.command_id} ({command.type} {command.stack_id})"
                )
            raise typer.Exit(1 if errors else 0)
        finished = run_commands(
            database, commands, engine=engine, files_dir=settings.files_dir, timeout=timeout
        )
        stacks_now = {c.stack_id: database.stacks.require(c.stack_id) for c in finished}
    failed = 0
    for command in finished:
        status = _outcome(command, stacks_now[command.stack_id])
        failed += status != "converged"
        typer.echo(f"{command.stack_id}: {status}")
    raise typer.Exit(1 if failed or errors else 0)


def _record(database: Database, desired: DesiredStack, *, root: Path, adopt: bool) -> Command:
    """A new version of the stack when its digest changed, said; the command that converges it
    (the version's APPLY, or a RECONCILE when nothing was recorded). ``adopt``: the same
    command, asking to take over Compose's objects (it supersedes the one just queued)."""
    from controller.models import Command, StackMetadata
    from controller.sources.versions import record_and_enqueue

    recorded = record_and_enqueue(
        database, desired, root=root, metadata=StackMetadata(created_by="stackctl apply")
    )
    version = recorded.version
    if version is None:
        current = database.stacks.require(desired.name).current_version
        typer.echo(f"{desired.name}: unchanged ({current})")
    else:
        typer.echo(f"{desired.name}: recorded {version.version} (digest {desired.digest[:12]})")
        if recorded.pinned:
            stack = database.stacks.require(desired.name)
            typer.echo(
                f"{desired.name}: pinned at {stack.current_version}; {version.version}"
                f" is not applied until `stackctl resume {desired.name}`"
            )
    command = recorded.command
    if command is None or adopt:
        kind = command.type if command else CommandType.RECONCILE
        payload = {**(command.payload if command else {}), **({"adopt": True} if adopt else {})}
        command = database.commands.enqueue(
            Command(stack_id=desired.name, type=kind, payload=payload)
        )
    return command


def _outcome(command: Command, stack: Stack) -> str:
    """``converged``, or what stands in the way."""
    if command.status is not CommandStatus.DONE:
        return f"{command.status}: {command.error}"
    if stack.health_status not in (HealthStatus.HEALTHY, HealthStatus.SUSPENDED):
        # Applied, but not healthy in time: like `docker compose up --wait`, not a success.
        return f"applied, but {stack.health_status}: {stack.last_error}"
    return "converged"


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
    from controller.cli.targets import connect_engines, require_declared

    settings = database_paths(db)
    path = Path(target)
    if path.exists():
        stacks, errors = _load(path)
        if errors:
            raise typer.Exit(2)
    else:
        stacks = {target: _recorded(target, db_path=settings.db)}
    specs = engine_specs(engines)
    targets = {d.name: d.engine for d in stacks.values()}
    require_declared(targets, specs, code=2)
    on = connect_engines(specs, targets=targets.values(), code=2)
    differences = sum(
        _print_differences(
            desired,
            engine=on.get(desired.engine),
            adopt=adopt,
            previous=applied_stack(settings.db, desired.name),
        )
        for desired in stacks.values()
    )
    raise typer.Exit(1 if differences else 0)


def _recorded(target: str, *, db_path: Path) -> DesiredStack:
    """The desired version of a recorded stack; a deleted stack's latest version."""
    from controller.db import Database
    from controller.sources.versions import load_desired

    if not db_path.exists():
        raise fail(f"{target}: no such file, and no database at {db_path}", 2)
    try:
        with Database(db_path=db_path) as database:
            stack = database.stacks.get(target)
            # A deleted stack has no desired version: compare with its latest one.
            version = (
                database.stack_versions.get(target, stack.current_version)
                if stack is not None and stack.current_version
                else database.stack_versions.latest(target)
            )
            if version is None:
                raise fail(f"{target}: neither a path nor a recorded stack", 2)
            return load_desired(database, version)
    except StackctlError as e:  # diff's contract: 2 for every error, 1 for differences
        raise fail(str(e), 2) from e


def _print_differences(
    desired: DesiredStack,
    *,
    engine: AnyEngine,
    adopt: bool,
    previous: DesiredStack | None = None,
) -> int:
    """Print the plan's changes and the reasons it cannot run, and under them the changed
    fields of each service against ``previous`` (the applied version); returns how many."""
    if previous is not None and previous.engine != desired.engine:
        previous = None  # a move: nothing of the applied version runs on the new engine
    try:
        observed = engine.observe_stack(desired)
        the_plan = engine.plan(desired, observed, previous=previous, adopt=adopt)
        problems = [*the_plan.problems, *engine.problems(desired)]
    except StackctlError as e:
        raise fail(str(e), 2) from e
    for problem in problems:
        typer.echo(f"{desired.name}: cannot apply: {problem}")
    for step in the_plan.changes:
        typer.echo(f"{desired.name}: {step.describe()}")
    echo_field_changes(desired, previous=previous, the_plan=the_plan)
    echo_disabled_services(desired)
    if not the_plan.changes and not problems:
        typer.echo(f"{desired.name}: no differences")
    return len(the_plan.changes) + len(problems)


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
    from controller.cli.targets import connect_engines, stack_engines
    from controller.db import Database
    from controller.models import Command

    settings = database_paths(db)
    if not settings.db.exists():
        raise fail(f"no database at {settings.db}")
    with Database(db_path=settings.db) as database:
        if database.stacks.get(stack) is None:
            raise fail(f"no stack named {stack!r}")
        command = database.commands.enqueue(
            Command(
                stack_id=stack, type=CommandType.DELETE_STACK, payload={"remove_volumes": volumes}
            )
        )
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
