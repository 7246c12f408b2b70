"""``stackctl describe STACK`` (status, where its latest version came from, conditions, services
with their containers, last commands, recent events) and ``describe repository NAME``.

Read-only, like the other queries: it reads the database and, when the engine answers, observes
what runs for the stack; an engine that does not answer is said in place of the containers.
The engine is the one the stack's desired version targets (else its applied one's), found in
the engines file as ``stackctl run`` reads it (``--engines``, ``STACKCTL_ENGINES``); a name
the file does not declare is said in the same place. A Swarm stack shows its services and
their tasks instead of containers (``controller.models.swarm_rows``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from controller.cli.app import app
from controller.cli.describe_text import print_details, provenance
from controller.cli.output import (
    OUTPUT_OPTION,
    Output,
    duration,
    print_data,
    print_table,
    timestamp,
)
from controller.cli.running import DB_OPTION, ENGINES_OPTION, engine_specs, fail, open_database
from controller.models.errors import StackctlError

if TYPE_CHECKING:  # loaded when the command runs: the CLI starts quickly
    from controller.backends.engines import AnyEngine
    from controller.db import Database
    from controller.desired.engine_spec import EngineSpec
    from controller.models import Stack
    from controller.models.observed import Snapshot
    from controller.models.swarm import SwarmSnapshot


@app.command()
def describe(
    stack: str = typer.Argument(
        ..., help="The stack (or `repository` then its name, or `command` then its id)."
    ),
    name: str | None = typer.Argument(
        None, help="With `repository`: the repository; with `command`: the command id."
    ),
    db: Path | None = DB_OPTION,
    output: Output = OUTPUT_OPTION,
    engines: Path | None = ENGINES_OPTION,
) -> None:
    """Status, conditions, services with their containers, last commands, recent events.
    A Swarm stack: its services and their tasks instead of containers.
    describe repository NAME: a followed git repository and how its last fetch went.
    describe command ID: a command's fields and its log lines."""
    if name is not None:
        if stack not in ("repository", "stack", "command"):
            raise fail(
                f"describe takes a stack, `repository NAME` or `command ID`, not {stack!r} {name!r}"
            )
        if stack == "command":
            _describe_command(name, db=db, output=output)
            return
        if stack == "repository":
            from controller.cli.repositories import describe_repository

            describe_repository(name, db=db, output=output)
            return
        stack = name
    with open_database(db) as database:
        details = _details(database, stack)
        where = details["engine"] or _applied_engine(database, details["stack"])
    specs = engine_specs(engines)
    spec = specs.get(where)
    if spec is None:
        snapshot, engine_error = None, _undeclared(where, specs)
        heading = engine_error
    else:
        snapshot, engine_error = _observe(ObserveTarget(stack=stack, spec=spec))
        heading = f"engine unreachable: {engine_error}" if engine_error else None
    listing = _backend(spec or _local()).view(snapshot, services=details["desired_services"])
    if output is not Output.TABLE:
        print_data({**details, **listing.data, "engine_error": engine_error}, output)
        return
    print_details(details, listing.tables, note=heading, echo=typer.echo)


def _describe_command(command_id: str, *, db: Path | None, output: Output) -> None:
    if not command_id.isdigit():
        raise fail(f"no command {command_id}")
    with open_database(db) as database:
        command = database.commands.require(int(command_id))
        lines = database.command_logs.list(int(command_id))
    if output is not Output.TABLE:
        print_data({"command": command, "logs": lines}, output)
        return
    fields = [
        ("Command", command.command_id),
        ("Stack", command.stack_id),
        ("Type", command.type),
        ("Status", command.status),
        ("Attempts", f"{command.attempts} ({command.failures} failed)"),
        ("Created", timestamp(command.created_at)),
        ("Started", timestamp(command.started_at)),
        ("Ended", timestamp(command.ended_at)),
        ("Duration", duration(command.started_at, command.ended_at)),
        ("Not before", timestamp(command.not_before)),
        ("Worker", command.worker_id or "-"),
        ("Payload", ", ".join(f"{k}={v}" for k, v in sorted(command.payload.items())) or "-"),
        ("Cancel", command.cancel_requested or "-"),
        ("Error", command.error or "-"),
    ]
    for label, value in fields:
        typer.echo(f"{label + ':':<12}{value}")
    typer.echo("Log:")
    print_table(
        ["TIME", "LEVEL", "MESSAGE"],
        [[timestamp(line.ts), line.level, line.message] for line in lines],
        indent=2,
    )


def _details(database: Database, name: str) -> dict[str, Any]:
    from controller.commands.conditions import stack_conditions
    from controller.sources.versions import version_engine

    stack = database.stacks.require(name)
    latest = database.stack_versions.latest(name)
    current = (
        database.stack_versions.get(name, stack.current_version) if stack.current_version else None
    )
    latest_label = latest.version if latest else None
    return {
        "stack": stack,
        "latest_version": latest_label,
        # The engine the desired version targets (None: no desired version).
        "engine": version_engine(current) if current else None,
        "conditions": stack_conditions(stack, latest_version=latest_label, current=current),
        "desired_services": sorted(current.compose.services) if current else [],
        # Where the latest version came from: a file (and its commit), or a repository's commit.
        "source": provenance(latest.metadata) if latest else None,
        "commands": database.commands.list(stack_id=name, limit=5).items,
        "events": database.events.list(stack_id=name, limit=10).items,
    }


def _applied_engine(database: Database, stack: Stack) -> str:
    """The engine of the applied version (a stack whose manifest went with ``deletionPolicy:
    Orphan`` has no desired version but still runs there), else ``local``."""
    from controller.desired.engine_spec import LOCAL
    from controller.sources.versions import version_engine

    applied = (
        database.stack_versions.get(stack.stack_id, stack.applied_version)
        if stack.applied_version
        else None
    )
    return version_engine(applied) if applied else LOCAL


def _undeclared(name: str, specs: dict[str, EngineSpec]) -> str:
    return (
        f"engine {name!r} is not declared (declared: {', '.join(specs)}; give describe the"
        " engines file the controller runs with: --engines FILE or STACKCTL_ENGINES)"
    )


@dataclass(frozen=True)
class ObserveTarget:
    stack: str
    spec: EngineSpec  # the engine the stack is looked for on


def _observe(target: ObserveTarget) -> tuple[Snapshot | SwarmSnapshot | None, str | None]:
    """What the engine runs for the stack, or why it could not be asked. One argument: tests
    replace it with ``lambda target: (snapshot, error)``."""
    from controller.backends.docker import Engine
    from controller.backends.engines import Engines
    from controller.desired.engine_spec import LOCAL, EngineSpec

    spec = target.spec
    try:
        if spec == EngineSpec(name=LOCAL):
            engine = Engine(timeout=10)  # as the docker CLI finds it, and its own error text
        else:
            engine = Engines({spec.name: spec}, timeout=10).get(spec.name)
        return engine.observe(target.stack), None
    except StackctlError as e:
        return None, str(e)


def _backend(spec: EngineSpec) -> AnyEngine:
    """The backend of ``spec``'s kind (made, not connected): it lays out what it observed."""
    from controller.backends.engines import Engines

    return Engines({spec.name: spec}, timeout=10).get(spec.name)


def _local() -> EngineSpec:
    from controller.desired.engine_spec import LOCAL, EngineSpec

    return EngineSpec(name=LOCAL)
