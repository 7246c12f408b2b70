"""Which engine a one-shot command acts on: the one the stack targets (``spec.target.engine``),
declared in the engines file as ``stackctl run`` reads it (``--engines``, ``STACKCTL_ENGINES``).

``apply``, ``diff``, ``ps`` and ``logs`` share it. A name the file does not declare stops the
command with one ``error:`` line naming the engine, the declared ones and the file to pass
(``describe`` says it in its output instead). The engine named ``local``, when the file does
not redefine it, is reached as the docker CLI reaches it and fails with the same words as
before (``is dockerd running? DOCKER_HOST=...``). Nothing here decides what a command does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from controller.cli.in_process import connect_engine, database_paths, docker_host
from controller.cli.plain_io import CommandExit, echo, fail
from controller.models.errors import StackctlError

if TYPE_CHECKING:  # loaded when a command runs: the CLI starts quickly
    from controller.backends.engines import AnyEngine, Engines
    from controller.db import Database
    from controller.desired.engine_spec import EngineSpec


def undeclared(name: str, specs: Mapping[str, EngineSpec]) -> str:
    return (
        f"engine {name!r} is not declared (declared: {', '.join(specs)}; pass the engines file"
        " the controller runs with: --engines FILE or STACKCTL_ENGINES)"
    )


def require_declared(
    targets: Mapping[str, str], specs: Mapping[str, EngineSpec], *, code: int = 1
) -> None:
    """``targets``: stack -> the engine it targets. One ``error:`` line per stack whose engine
    the file does not declare, then the exit (``code``)."""
    missing = {stack: name for stack, name in targets.items() if name not in specs}
    for stack, name in sorted(missing.items()):
        echo(f"error: {stack}: {undeclared(name, specs)}", err=True)
    if missing:
        raise CommandExit(code)


def connect_engines(
    specs: Mapping[str, EngineSpec], *, targets: Iterable[str], code: int = 1
) -> Engines:
    """The engines of the file, each of ``targets`` (declared names) having answered a ping;
    one that does not stops the command (exit ``code``). Engines no stack targets are not
    asked: a swarm-only apply does not need the local dockerd."""
    from controller.backends.engines import Engines
    from controller.desired.engine_spec import LOCAL

    wanted = set(targets)
    local = connect_engine() if LOCAL in wanted and _plain_local(specs) else None
    engines = Engines(specs, local=local)
    for name in sorted(wanted - ({LOCAL} if local is not None else set())):
        try:
            engines.get(name).ping()
        except StackctlError as e:
            raise fail(str(e), code) from e
    return engines


def target_engine(
    name: str, specs: Mapping[str, EngineSpec], *, timeout: int, code: int = 1
) -> AnyEngine:
    """The engine ``name``, having answered a ping (else one ``error:`` line, exit ``code``)."""
    from controller.backends.docker import Engine
    from controller.backends.engines import Engines
    from controller.desired.engine_spec import LOCAL

    spec = specs.get(name)
    if spec is None:
        raise fail(undeclared(name, specs), code)
    plain = name == LOCAL and _plain_local(specs)
    engine = Engine(timeout=timeout) if plain else Engines({name: spec}, timeout=timeout).get(name)
    try:
        engine.ping()
    except StackctlError as e:
        hint = f" (is dockerd running? DOCKER_HOST={docker_host()})" if plain else ""
        raise fail(f"{e}{hint}", code) from e
    return engine


@dataclass(frozen=True)
class Recorded:
    """What the database says of a stack: the engine it targets (its desired version's, else
    its applied one's, else ``local``) and that version's services (empty: none recorded)."""

    engine: str
    services: tuple[str, ...] = ()


def recorded_target(db: Path | None, stack: str) -> Recorded:
    """``ps`` and ``logs`` need no database: without one, or without the stack in it, the
    stack is looked for on ``local``, as before engines existed."""
    from controller.db import Database
    from controller.db.plain_reads import stack_target
    from controller.desired.engine_spec import LOCAL
    from controller.sources.versions import version_engine

    path = database_paths(db).db
    if not path.is_file():
        return Recorded(LOCAL)
    plain = stack_target(path, stack)  # without the models, when the file allows it
    if plain is not None:
        engine, services = plain
        return Recorded(engine or LOCAL, tuple(sorted(services)))
    try:
        with Database(db_path=path) as database:
            found = database.stacks.get(stack)
            number = found and (found.current_version or found.applied_version)
            version = database.stack_versions.get(stack, number) if number else None
    except StackctlError:  # an unusable database: the stack is looked for where it always was
        return Recorded(LOCAL)
    if version is None:
        return Recorded(LOCAL)
    return Recorded(version_engine(version), tuple(sorted(version.compose.services)))


def _plain_local(specs: Mapping[str, EngineSpec]) -> bool:
    """``local`` as the docker CLI finds it (the file does not give it a host of its own)."""
    from controller.desired.engine_spec import LOCAL, EngineSpec

    return specs.get(LOCAL, EngineSpec(name=LOCAL)) == EngineSpec(name=LOCAL)


def stack_engines(database: Database, stack: str, specs: dict[str, EngineSpec]) -> list[str]:
    """The declared engines the stack's versions (desired, applied) target: those a command run
    here (a delete, a rollback, a move: both ends) must reach; an undeclared one fails the
    command with the reconciler's reason."""
    from controller.sources.versions import version_engine

    found = database.stacks.require(stack)
    numbers = {found.current_version, found.applied_version} - {None}
    versions = [database.stack_versions.get(stack, n) for n in numbers if n]
    names = {version_engine(v) for v in versions if v is not None}
    return sorted(names & specs.keys())
