"""The bodies of ``stackctl apply`` and ``diff`` (``converge.py`` declares the commands), free of
typer: they print with ``plain_io.echo`` and end with ``CommandExit``, so that the quick path
(``quick_files.py``) runs them before typer is imported and prints what the typer commands print.

``apply`` records a version (when the digest changed), enqueues a command and runs it here with
a ``Worker``, as the controller would; ``diff`` observes and plans without executing. Each
stack an ``apply`` records is one audit entry (``apply``, its version and command, by
``local:<user>``) in the transaction that records it; its version is ``created_by``
``stackctl apply by local:<user>``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from controller.cli.diff_output import applied_stack
from controller.cli.in_process import database_paths, run_commands
from controller.cli.plain_io import CommandExit, echo, fail
from controller.models.enums import CommandStatus, CommandType, HealthStatus
from controller.models.errors import StackctlError

if TYPE_CHECKING:  # the layers below load when a command runs: the CLI starts quickly
    from controller.backends.engines import AnyEngine
    from controller.db import Database
    from controller.desired import DesiredStack
    from controller.desired.engine_spec import EngineSpec
    from controller.models import Command, Stack
    from controller.models.audit import Actor

Specs = Callable[[], "dict[str, EngineSpec]"]  # the engines file, read when the command needs it


def _root(path: Path) -> Path:
    return path if path.is_dir() else path.parent


def load_stacks(path: Path) -> tuple[dict[str, DesiredStack], int]:
    """The stacks at ``path`` and how many errors its load printed (warnings on stderr too)."""
    from controller.cli.in_process import manifest_reach
    from controller.sources.loader import load_path

    if not path.exists():
        raise fail(f"{path}: no such file or directory", 2)
    result = load_path(path, reach=manifest_reach())
    for warning in result.warnings:
        echo(f"warning: {warning.render()}", err=True)
    for error in result.errors:
        echo(error.render(), err=True)
    return result.stacks, len(result.errors)


def apply_path(
    path: Path, *, db: Path | None, wait: bool, timeout: float, adopt: bool, specs: Specs
) -> None:
    """``stackctl apply PATH``: record, then converge each stack on the engine it targets."""
    from controller.cli.local_actor import local_actor
    from controller.cli.targets import connect_engines, require_declared
    from controller.db import Database

    settings = database_paths(db)
    actor = local_actor()
    stacks, errors = load_stacks(path)
    engine = None
    if wait:  # before recording: nothing queued for no one
        declared = specs()
        targets = {d.name: d.engine for d in stacks.values()}
        require_declared(targets, declared)
        engine = connect_engines(declared, targets=targets.values())
    with Database(db_path=settings.db) as database:
        root = _root(path).absolute()
        commands = [
            record(database, d, root=root, adopt=adopt, actor=actor) for d in stacks.values()
        ]
        if engine is None:
            for command in commands:
                echo(f"queued command {command.command_id} ({command.type} {command.stack_id})")
            raise CommandExit(1 if errors else 0)
        finished = run_commands(
            database, commands, engine=engine, files_dir=settings.files_dir, timeout=timeout
        )
        stacks_now = {c.stack_id: database.stacks.require(c.stack_id) for c in finished}
    failed = 0
    for command in finished:
        status = outcome(command, stacks_now[command.stack_id])
        failed += status != "converged"
        echo(f"{command.stack_id}: {status}")
    raise CommandExit(1 if failed or errors else 0)


def record(
    database: Database, desired: DesiredStack, *, root: Path, adopt: bool, actor: Actor
) -> Command:
    """A new version of the stack when its digest changed, said; the command that converges it
    (the version's APPLY, or a RECONCILE when nothing was recorded). ``adopt``: the same
    command, asking to take over Compose's objects (it supersedes the one just queued). The
    version, the command and the audit entry commit together; what it did is said after."""
    from controller.commands.audited import audited

    said: list[str] = []
    shown: list[str | None] = [None]

    def run() -> Command:
        command, lines, shown[0] = _record(database, desired, root=root, adopt=adopt, actor=actor)
        said.extend(lines)
        return command

    command = audited(
        database, actor, "apply", run, stack_id=desired.name, version=lambda: shown[0]
    )
    for line in said:
        echo(line)
    return command


def _record(
    database: Database, desired: DesiredStack, *, root: Path, adopt: bool, actor: Actor
) -> tuple[Command, list[str], str | None]:
    """``record``'s changes: the command, the lines saying what was done, and the version the
    stack has now (the one recorded, or the current one when nothing was)."""
    from controller.models import Command, StackMetadata
    from controller.models.audit import authored
    from controller.sources.versions import record_and_enqueue

    metadata = StackMetadata(created_by=authored("stackctl apply", actor))
    recorded = record_and_enqueue(database, desired, root=root, metadata=metadata)
    version, name = recorded.version, desired.name
    if version is None:
        shown = database.stacks.require(name).current_version
        restored = recorded.command is not None  # deleted before: its latest version again
        lines = [f"{name}: unchanged ({shown}){', applied again' if restored else ''}"]
    else:
        shown = version.version
        lines = [f"{name}: recorded {shown} (digest {desired.digest[:12]})"]
        if recorded.pinned:
            stack = database.stacks.require(name)
            lines.append(
                f"{name}: pinned at {stack.current_version}; {shown}"
                f" is not applied until `stackctl resume {name}`"
            )
    command = recorded.command
    if command is None or adopt:
        kind = command.type if command else CommandType.RECONCILE
        payload = {**(command.payload if command else {}), **({"adopt": True} if adopt else {})}
        command = database.commands.enqueue(Command(stack_id=name, type=kind, payload=payload))
    return command, lines, shown


def outcome(command: Command, stack: Stack) -> str:
    """``converged``, or what stands in the way."""
    if command.status is not CommandStatus.DONE:
        return f"{command.status}: {command.error}"
    if stack.health_status not in (HealthStatus.HEALTHY, HealthStatus.SUSPENDED):
        # Applied, but not healthy in time: like `docker compose up --wait`, not a success.
        return f"applied, but {stack.health_status}: {stack.last_error}"
    return "converged"


def diff_target(target: str, *, db: Path | None, adopt: bool, specs: Specs) -> None:
    """``stackctl diff TARGET``: exit 0 no differences, 1 differences, 2 error."""
    from controller.cli.targets import connect_engines, require_declared

    settings = database_paths(db)
    path = Path(target)
    if path.exists():
        stacks, errors = load_stacks(path)
        if errors:
            raise CommandExit(2)
    else:
        stacks = {target: recorded_desired(target, db_path=settings.db)}
    declared = specs()
    targets = {d.name: d.engine for d in stacks.values()}
    require_declared(targets, declared, code=2)
    on = connect_engines(declared, targets=targets.values(), code=2)
    differences = sum(
        print_differences(
            desired,
            engine=on.get(desired.engine),
            adopt=adopt,
            previous=applied_stack(settings.db, desired.name),
        )
        for desired in stacks.values()
    )
    raise CommandExit(1 if differences else 0)


def recorded_desired(target: str, *, db_path: Path) -> DesiredStack:
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


def print_differences(
    desired: DesiredStack,
    *,
    engine: AnyEngine,
    adopt: bool,
    previous: DesiredStack | None = None,
) -> int:
    """Print the plan's changes and the reasons it cannot run, and under them the changed
    fields of each service against ``previous`` (the applied version); returns how many."""
    from controller.backends.differences import differences

    try:
        found = differences(desired, engine=engine, adopt=adopt, previous=previous)
    except StackctlError as e:
        raise fail(str(e), 2) from e
    for line in found.lines:
        echo(line)
    return found.count
