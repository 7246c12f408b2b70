"""What the CLI's commands share to reach the database and to see a command through.

- ``open_database`` opens an *existing* database (a missing file is one clear line, exit 1:
  reading commands never create one by accident).
- ``run_commands`` runs the queue in-process with a ``Worker`` until the given commands have
  had their attempt (``apply``, ``delete``, and ``--wait`` when no controller runs); it and the
  other typer-free helpers live in ``in_process.py`` (re-exported here).
- ``wait_for`` is ``--wait``: follow a command to its end, printing its log lines as they
  arrive; when no controller holds the lease it runs the command here instead.
Nothing here decides what a command does; that is the reconciler's job.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from controller.cli.db_option import from_root
from controller.cli.in_process import (  # noqa: F401 (re-exported: the commands import them here)
    DatabasePaths,
    Printer,
    _last_word,
    connect_engine,
    database_paths,
    docker_host,
    manifest_reach,
    plain_environment,
    progress,
    read_engines,
    run_commands,
)
from controller.config.shared import (
    DB_HELP,
    ENGINES_HELP,
    ENGINES_SHOWN,
    TIMEOUT_HELP,
    TIMEOUT_SECONDS,
)
from controller.config.statedir import database_path, default_db
from controller.models.enums import CommandStatus, CommandType
from controller.models.errors import StackctlError

if TYPE_CHECKING:  # the heavy layers load when a command needs them: the CLI starts quickly
    from controller.backends.docker import Engine
    from controller.backends.engines import Engines
    from controller.db import Database
    from controller.desired.engine_spec import EngineSpec
    from controller.models import Command

# The help shows this user's default: $XDG_STATE_HOME/stackctl/ (~/.local/state/stackctl/), or
# /var/lib/stackctl/ for root (controller.config.statedir.default_db).
DB_DEFAULT = str(default_db(euid=os.geteuid(), environ=os.environ))
DB_OPTION = typer.Option(
    None,
    "--db",
    envvar="STACKCTL_DB",
    show_envvar=True,
    show_default=DB_DEFAULT,
    callback=from_root,
    help=DB_HELP,
)


def timeout_option(envvar: str | None = None) -> Any:
    """``--timeout``: one wait for every command that converges (``config/shared.py``); ``run``
    takes it as a setting, and reads ``STACKCTL_TIMEOUT`` too."""
    return typer.Option(
        TIMEOUT_SECONDS, "--timeout", min=0, envvar=envvar, show_envvar=True, help=TIMEOUT_HELP
    )


TIMEOUT_OPTION = timeout_option()


def wait_option(default: bool) -> Any:
    """``--wait/--no-wait``: the same flag on every command; only its default differs (apply
    and delete converge now, the steering commands queue)."""
    return typer.Option(
        default,
        "--wait/--no-wait",
        help="Follow the command to its end (exit 0 when DONE), or only queue it.",
    )


WAIT_OPTION = wait_option(False)

# The engines file, read the same way by `run` (its engines) and `describe`, `apply`, `diff`,
# `ps`, `logs` (where the stack runs: cli/targets.py).
ENGINES_OPTION = typer.Option(
    None,
    "--engines",
    envvar="STACKCTL_ENGINES",
    help=ENGINES_HELP,
    show_default=ENGINES_SHOWN,  # in the help text, rich would take the brackets for markup
)

POLL_SECONDS = 0.25


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``error: message`` on stderr and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def pause(seconds: float) -> None:
    """The poll interval of the followers (tests replace it to step time themselves)."""
    time.sleep(seconds)


def engine_specs(path: Path | None) -> dict[str, EngineSpec]:
    """The engines of ``--engines`` (``local`` only without it); a bad file stops the command
    with the file, the key and the problem (exit 2)."""
    from controller.models.errors import ManifestError

    try:
        return read_engines(path)
    except ManifestError as e:
        raise typer.BadParameter(str(e), param_hint="--engines") from e


@contextmanager
def open_database(db: Path | None) -> Iterator[Database]:
    """The database named by ``--db`` / ``STACKCTL_DB``, which must exist; project errors that
    escape the block become one ``error:`` line and exit 1."""
    from controller.db import Database

    path = existing_database(db)
    try:
        with Database(db_path=path) as database:
            yield database
    except StackctlError as e:
        raise fail(str(e)) from e


def existing_database(db: Path | None) -> Path:
    """The database file named by ``--db`` / ``STACKCTL_DB``; one clear line, exit 1, when
    there is none (reading commands never create one by accident)."""
    path = database_path(db)
    if path.is_dir():
        raise fail(f"{path} is a directory, not a database file (pass --db FILE)")
    if not path.is_file():
        raise fail(
            f"no database at {path} (pass --db FILE or set STACKCTL_DB; "
            "`stackctl apply` or `stackctl run` creates it)"
        )
    return path


def wait_for(
    database: Database,
    command: Command,
    *,
    files_dir: Path,
    timeout: float,
    echo: Printer,
    engines: Callable[[], Engine | Engines] | None = None,
) -> Command:
    """``--wait``: the command's final state (or its state when ``timeout`` ran out).

    A controller that holds the lease runs the command; we follow its log lines. Without one we
    run it here, on what ``engines`` connects (``local``, unless the command was given the
    engines file). A command superseded by a newer APPLY is followed into its successor.
    """
    while True:
        if not controller_running(database):
            typer.echo("no controller is running; running it here", err=True)
            [final] = run_commands(
                database,
                [command],
                engine=(engines or connect_engine)(),
                files_dir=files_dir,
                timeout=timeout,
                echo=echo,
            )
        else:
            final = follow_command(database, command, timeout=timeout, echo=echo)
        successor = _successor(database, final)
        if successor is None:
            return final
        echo(
            f"[{final.stack_id}] command {final.command_id} was superseded by command"
            f" {successor.command_id}; following it"
        )
        command = successor


def controller_running(database: Database) -> bool:
    """A controller holds the lease, and is not a process of this host that has died (its
    lease would only expire later; its command would wait for the restart)."""
    from controller.commands.liveness import holder_gone

    lease = database.leases.live()
    return lease is not None and not holder_gone(lease)


def follow_command(
    database: Database, command: Command, *, timeout: float, echo: Printer
) -> Command:
    """Print the command's log lines as they are written until it ends or ``timeout`` passes."""
    assert command.command_id is not None
    after = 0
    deadline = time.monotonic() + timeout
    title = f"{command.stack_id}: command {command.command_id} ({command.type})"
    with progress(echo, title=title) as say:
        while True:
            current = database.commands.require(command.command_id)  # status, then lines:
            for line in database.command_logs.list(command.command_id, after_id=after):
                say(f"[{command.stack_id}] {line.message}")  # none logged before the end lost
                after = line.log_id or after
            if current.status.terminal or time.monotonic() >= deadline:
                return current
            pause(POLL_SECONDS)


def _successor(database: Database, command: Command) -> Command | None:
    """The command that superseded ``command``: the oldest newer APPLY or DELETE of its stack."""
    if command.status is not CommandStatus.SUPERSEDED:
        return None
    superseding = (CommandType.APPLY_STACK_VERSION, CommandType.DELETE_STACK)
    newer = [
        c
        for c in database.commands.list(stack_id=command.stack_id, limit=50).items
        if (c.command_id or 0) > (command.command_id or 0) and c.type in superseding
    ]
    return min(newer, key=lambda c: c.command_id or 0) if newer else None


def outcome_line(command: Command) -> str:
    """``shop: command 12 DONE`` / ``shop: command 12 FAILED: why``."""
    line = f"{command.stack_id}: command {command.command_id} {command.status}"
    if command.status is CommandStatus.PENDING and command.not_before is not None:
        line += " (will retry)"
    return f"{line}: {command.error}" if command.error else line
