"""What ``apply`` and ``diff`` (and the commands that wait) need to converge here, without typer:
reach the local engine, run the queue in-process (``run_commands``: a ``Worker`` until the
given commands have had their attempt), find the database and what manifests may reach.

Kept free of typer so that the quick paths (``quick_files.py``) run the same code as the typer
commands; ``running.py`` re-exports these names. Nothing here decides what a command does.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from controller.cli.plain_io import echo as plain_echo
from controller.cli.plain_io import fail
from controller.config.statedir import database_path
from controller.models.errors import StackctlError

if TYPE_CHECKING:  # the heavy layers load when a command needs them: the CLI starts quickly
    from controller.backends.docker import Engine
    from controller.backends.engines import Engines
    from controller.db import Database
    from controller.desired.engine_spec import EngineSpec
    from controller.models import Command

Printer = Callable[[str], None]


def connect_engine() -> Engine:
    from controller.backends.docker import Engine

    try:
        engine = Engine()
        engine.ping()
        return engine
    except StackctlError as e:
        raise fail(f"{e} (is dockerd running? DOCKER_HOST={docker_host()})") from e


def docker_host() -> str:
    return os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")


def read_engines(path: Path | None) -> dict[str, EngineSpec]:
    """The engines of ``--engines`` (``local`` only without it); a ``ManifestError`` for a bad
    file (``running.engine_specs`` makes it typer's usage error)."""
    from controller.desired.engine_spec import LOCAL, EngineSpec

    if path is None:  # as engines_file.local_only(), without loading the loader
        return {LOCAL: EngineSpec(name=LOCAL)}
    from controller.sources.loader.engines_file import load_engines

    return load_engines(path.absolute())


def run_commands(
    database: Database,
    commands: list[Command],
    *,
    engine: Engine | Engines,
    files_dir: Path,
    timeout: float,
    echo: Printer = plain_echo,
) -> list[Command]:
    """Run the queue until our commands have each had their attempt, on ``engine`` (the
    engines of the file: each stack on the one it targets).

    Claims left by a worker that died are taken back first: without a controller, nobody else
    would, and our command could be waiting behind one."""
    from controller.commands.worker import Worker
    from controller.reconcile.reconciler import ReconcilerOptions

    database.commands.recover_expired()
    stacks = ", ".join(sorted({c.stack_id for c in commands}))
    with progress(echo, title=f"converging {stacks}") as say:
        worker = Worker(
            database,
            engine,
            worker_id=f"cli-{time.time_ns()}",
            echo=say,
            options=ReconcilerOptions(files_dir=files_dir, wait_timeout=timeout),
        )
        ids = {c.command_id for c in commands}
        outcomes: dict[int, Command] = {}
        deadline = time.monotonic() + timeout + 60
        while ids - outcomes.keys() and time.monotonic() < deadline:
            outcome = worker.run_next()
            if outcome is None:
                pending = [database.commands.require(i) for i in ids - outcomes.keys()]
                for command in pending:
                    if command.status.terminal or command.not_before:
                        outcomes[command.command_id] = command  # type: ignore[index]
                time.sleep(0.1)
            elif outcome.command.command_id in ids:
                outcomes[outcome.command.command_id] = outcome.command
    return [
        outcomes.get(c.command_id) or database.commands.require(c.command_id)  # type: ignore[arg-type]
        for c in commands
    ]


@contextmanager
def progress(echo: Printer, *, title: str, terminal: bool | None = None) -> Iterator[Printer]:
    """``echo``, plus on a terminal a live line under the log lines: what runs, the step it is
    at or what it waits for (a service and its health, as the reconciler says it), and for how
    long. Piped (``terminal`` false; by default: stderr is not a terminal) nothing is added: the
    log lines stay one per line, with no control characters, for grep and for logs."""
    if not (sys.stderr.isatty() if terminal is None else terminal):
        yield echo
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.text import Text

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    console = Console(stderr=True, highlight=False)
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(title)

        def say(line: str) -> None:
            echo(line)
            bar.update(task, description=Text(f"{title}: {_last_word(line)}"))

        yield say


def _last_word(line: str) -> str:
    """The log line without its ``[stack]`` prefix, on one line and short enough for it."""
    text = " ".join(line.split("] ", 1)[-1].split())
    return text if len(text) <= 100 else text[:97] + "..."


# Variables any text is a valid value of (paths) and that the CLI reads itself (``STACKCTL_DB``:
# ``statedir.database_path``; ``STACKCTL_ENGINES``: click, through ``ENGINES_OPTION``).
_PATH_VARIABLES = frozenset({"STACKCTL_DB", "STACKCTL_ENGINES"})


def plain_environment(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``load_settings`` would find nothing in the environment but paths: no
    ``STACKCTL_<NAME>`` variable (pydantic-settings reads them in capitals only) other than a
    non-empty ``STACKCTL_DB`` or ``STACKCTL_ENGINES``. Then every other setting a one-shot command
    reads is its default, and the settings model (pydantic-settings: a third of ``apply``'s
    start-up) need not load; otherwise it does, and checks every variable as before."""
    environ = os.environ if environ is None else environ
    return all(
        key in _PATH_VARIABLES and value
        for key, value in environ.items()
        if key.startswith("STACKCTL_") and key == key.upper()
    )


@dataclass(frozen=True)
class DatabasePaths:
    """The settings a one-shot command reads of ``load_settings``: the database and the
    folder beside it where secrets and configs are written (``Settings.files_dir``)."""

    db: Path

    @property
    def files_dir(self) -> Path:
        return self.db.parent / "files"


def database_paths(db: Path | None) -> DatabasePaths:
    """``load_settings({"db": db})``'s database and files folder, without loading the settings
    model when the environment has nothing else to check (``plain_environment``)."""
    if plain_environment():
        return DatabasePaths(database_path(db))
    from controller.config.settings import load_settings

    return DatabasePaths(load_settings({"db": db}).db)


def manifest_reach() -> Any:
    """What manifests may reach when a one-shot command (``apply``, ``validate``) loads them:
    the same policy as ``stackctl run``'s, from ``STACKCTL_NOTIFY_ALLOW`` and
    ``STACKCTL_SECRETS_DIR``, so a manifest valid here is valid for the controller."""
    from controller.desired.reach import Reach

    if plain_environment():  # neither variable is set: the defaults (None)
        return Reach(notify_allow=(), secrets_dir=None)
    from controller.config.settings import load_settings

    settings = load_settings({})
    secrets = settings.secrets_dir
    return Reach(
        notify_allow=tuple((settings.notify_allow or "").split()),
        secrets_dir=secrets.absolute() if secrets is not None else None,
    )
