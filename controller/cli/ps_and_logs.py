"""``stackctl ps [STACK]`` and ``stackctl logs STACK [SERVICE]``: what the containers do, read
from the engine, as ``docker compose ps`` / ``logs`` and ``kubectl get pods`` / ``logs`` show it.

Read-only, on the engine the stack targets (``cli/targets.py``: the database says which, the
engines file where it is, ``--engines``); neither needs the database (without it, or without the
stack in it, ``local``; a stack is its Compose project label). A Swarm stack: ``ps`` shows its
services and tasks (``models.swarm_rows``, as ``describe`` does); ``logs`` its services'
output (every task's, as ``docker service logs`` gives it), each line prefixed with the service.
The logs of stackctl's own *commands* are ``stackctl command-logs`` (``queries.py``); the old
``stackctl logs ID`` and ``logs --stack S`` still print them, with a note on stderr saying so.
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

import typer

from controller.cli.app import app
from controller.cli.output import OUTPUT_OPTION, Output, print_data
from controller.cli.running import (
    DB_OPTION,
    ENGINES_OPTION,
    database_paths,
    docker_host,
    engine_specs,
    fail,
)
from controller.models.errors import StackctlError

if TYPE_CHECKING:  # loaded when a command runs: the CLI starts quickly
    from controller.backends.docker import Engine
    from controller.backends.engines import AnyEngine
    from controller.backends.interface import Table
    from controller.cli.targets import Recorded
    from controller.desired.engine_spec import EngineSpec

ENGINE_TIMEOUT = 10
_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@app.command()
def ps(
    stack: str | None = typer.Argument(None, help="Only this stack's containers."),
    output: Output = OUTPUT_OPTION,
    db: Path | None = DB_OPTION,
    engines: Path | None = ENGINES_OPTION,
) -> None:
    """The stacks' containers: state, health, published ports, the version that made them.

    STACK: on the engine it targets (--engines FILE); a Swarm stack's services and tasks.
    Without STACK: the local engine's."""
    from controller.cli.targets import Recorded, recorded_target

    if stack is None:
        engine: AnyEngine = _engine()
        recorded = Recorded(engine="local")
    else:
        recorded = recorded_target(db, stack)
        engine = _target(recorded, engine_specs(engines))
    try:
        listing = engine.listing(stack, services=list(recorded.services))
    except StackctlError as e:
        raise fail(str(e)) from e
    if output is not Output.TABLE:
        print_data(listing.data, output)
        return
    print_tables(listing.tables)


def print_tables(tables: list[Table], *, note: str | None = None) -> None:
    """A backend's tables: each under its heading (and ``note``, on the first), indented."""
    from controller.cli.describe_text import print_tables as print_all

    print_all(tables, note=note, echo=typer.echo)


@app.command()
def logs(
    stack: str | None = typer.Argument(None, help="The stack."),
    service: str | None = typer.Argument(None, help="Only this service's containers."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines."),
    tail: int | None = typer.Option(None, "--tail", "-n", min=0, help="The last N lines of each."),
    since: str | None = typer.Option(
        None, "--since", help="Lines since a duration ago (30s, 10m, 2h, 1d) or an ISO time."
    ),
    timestamps: bool = typer.Option(False, "--timestamps", "-t", help="Show the engine's times."),
    old_stack: str | None = typer.Option(
        None, "--stack", hidden=True, help="Deprecated: stackctl command-logs --stack STACK."
    ),
    db: Path | None = DB_OPTION,
    engines: Path | None = ENGINES_OPTION,
) -> None:
    """The containers' output (stdout and stderr), each line prefixed with its container.

    From the engine the stack targets (--engines FILE). --follow keeps printing until the
    containers stop or ^C.

    stackctl's own command logs are `stackctl command-logs ID` or `command-logs --stack STACK`.
    """
    if old_stack is not None or (stack and stack.isdigit() and _is_command(stack, db)):
        _deprecated_command_logs(stack, old_stack, follow=follow, db=db)
        return
    if stack is None:
        raise fail("give a STACK (stackctl's command logs: stackctl command-logs ID)", 2)
    from controller.cli.targets import recorded_target

    recorded, specs = recorded_target(db, stack), engine_specs(engines)
    engine = _target(recorded, specs)
    what = f"service {service!r} of stack {stack!r}" if service else f"stack {stack!r}"
    found = engine.log_sources(stack)  # a Swarm's: its services (every task's output)
    sources = [LogSource(s.id, s.name) for s in found if service in (None, s.service)]
    read: LogReader = engine.read_logs
    if not sources:
        raise fail(f"no {engine.unit} of {what} on the engine (stackctl ps {stack})")
    start = _since(since) if since else None
    width = max(len(source.name) for source in sources)
    lines = _follow_lines if follow else _sorted_lines
    with contextlib.suppress(KeyboardInterrupt):  # ^C is how one stops --follow
        for name, line in lines(read, sources, tail=tail, since=start):
            stamp, _, text = line.partition(" ")
            typer.echo(f"{name:<{width}} | " + (f"{stamp} {text}" if timestamps else text))


class LogSource(NamedTuple):
    """A container, or a Swarm service (its tasks' output together)."""

    id: str
    name: str


class LogReader(Protocol):
    def __call__(
        self,
        source: str,
        *,
        follow: bool = ...,
        tail: int | None = ...,
        since: datetime | None = ...,
    ) -> Iterator[str]: ...


def _sorted_lines(
    read: LogReader,
    sources: list[LogSource],
    *,
    tail: int | None,
    since: datetime | None,
) -> Iterator[tuple[str, str]]:
    """Every source's lines, merged in time order (the engine's timestamps sort as text)."""
    lines = [(line, s.name) for s in sources for line in read(s.id, tail=tail, since=since)]
    for line, name in sorted(lines):
        yield name, line


def _follow_lines(
    read: LogReader,
    sources: list[LogSource],
    *,
    tail: int | None,
    since: datetime | None,
) -> Iterator[tuple[str, str]]:
    """Lines as they come, from one reader thread per source, until every stream ends."""
    lines: queue.Queue[tuple[str, str] | None] = queue.Queue()

    def follow(source: LogSource) -> None:
        try:
            for line in read(source.id, follow=True, tail=tail, since=since):
                lines.put((source.name, line))
        except StackctlError as e:
            lines.put((source.name, f"- (stackctl: the log stream ended: {e})"))
        finally:
            lines.put(None)

    for source in sources:
        threading.Thread(target=follow, args=(source,), daemon=True).start()
    open_streams = len(sources)
    while open_streams:
        item = lines.get()
        if item is None:
            open_streams -= 1
        else:
            yield item


def _since(text: str) -> datetime:
    match = _DURATION.match(text.strip())
    if match:
        amount, unit = int(match.group(1)), _UNITS[match.group(2)]
        return datetime.now(UTC) - timedelta(**{unit: amount})
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as e:
        raise fail(f"--since {text!r}: give a duration (30s, 10m, 2h, 1d) or an ISO time", 2) from e
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _engine() -> Engine:
    from controller.backends.docker import Engine

    engine = Engine(timeout=ENGINE_TIMEOUT)
    try:
        engine.ping()
    except StackctlError as e:
        raise fail(f"{e} (is dockerd running? DOCKER_HOST={docker_host()})") from e
    return engine


def _target(recorded: Recorded, specs: dict[str, EngineSpec]) -> AnyEngine:
    from controller.cli.targets import target_engine

    return target_engine(recorded.engine, specs, timeout=ENGINE_TIMEOUT)


def _is_command(stack: str, db: Path | None) -> bool:
    """``stackctl logs 12`` meant command 12 (the old form) when the database has no stack
    named ``12`` but has that command."""
    from controller.db import Database

    path = database_paths(db).db
    if not path.is_file():
        return False
    try:
        with Database(db_path=path) as database:
            no_stack = database.stacks.get(stack) is None
            return no_stack and database.commands.get(int(stack)) is not None
    except (StackctlError, OverflowError):
        return False


def _deprecated_command_logs(
    stack: str | None, old_stack: str | None, *, follow: bool, db: Path | None
) -> None:
    from controller.cli.queries import LogFormat, command_logs

    new = f"command-logs --stack {old_stack}" if old_stack else f"command-logs {stack}"
    typer.echo(
        f"note: `stackctl logs` shows the containers' logs now; use `stackctl {new}`", err=True
    )
    command_id = None if old_stack is not None else int(stack or 0)
    command_logs(
        command_id=command_id, stack=old_stack, last=5, follow=follow, db=db, output=LogFormat.TEXT
    )
