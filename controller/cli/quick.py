"""``stackctl get stacks``, ``get versions STACK`` and ``history STACK`` answered before typer is
imported: the most common one-shot reads.

Loading typer is half of what ``get stacks`` costs as a process; the list itself is a query and
a table. ``answer`` reads the command line itself for the shapes that list stacks (the root's and
the command's ``--db`` and ``-o table|wide|name``, ``--all``/``-A``, a stack's name) and prints
the list as the typer command would (the same ``STACKS`` rows, ``controller.db.plain_reads``). For
anything else (another option, a repeated or glued one, ``--help``, json or yaml, ``--watch``, a
database that is missing or that the views cannot read, an unknown stack) it prints nothing and
says no, and typer runs the command: its errors and messages stay typer's. A test runs both
ways over a table of command lines and compares what they print. ``history`` (``answer_history``)
the same way: its table only (``-o table``), from ``plain_reads.list_versions``, and ``get
versions`` (table, wide, name; ``--watch`` is typer's); anything else (json, yaml, an unknown
stack, metadata the view does not vouch for) is typer's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from controller.cli.listing import GetOutput, Listing, print_all
from controller.cli.output import age, timestamp

if TYPE_CHECKING:
    from controller.db.plain_reads import StackView
    from controller.models import Stack

DELETED = "Deleted"

STACKS = Listing(
    kind="stack",
    columns=["NAME", "DESIRED", "APPLIED", "SYNC", "HEALTH", "SUSPENDED", "PINNED", "AGE"],
    row=lambda s: [
        s.name,
        s.current_version,
        s.applied_version,
        DELETED if deleted(s) else s.sync_status,
        "-" if deleted(s) else s.health_status,
        s.suspended,
        s.pinned,
        age(s.created_at),
    ],
    name=lambda s: s.name,
    # ENGINE: the engine its desired version targets (`-` with no version).
    wide_columns=["ENGINE", "UPDATED", "LAST ERROR"],
    wide_row=lambda s: [s.engine, timestamp(s.updated_at), s.last_error],
)


def deleted(stack: Stack | StackView) -> bool:
    """See ``Stack.deleted``."""
    return stack.deleted


# The outputs `get stacks` prints from plain rows; json and yaml print the models' own form
# (``ListedStack``: a stack's fields and its engine).
PLAIN_OUTPUTS = {o.value: o for o in (GetOutput.TABLE, GetOutput.WIDE, GetOutput.NAME)}
_VALUED = {"--db": "db", "-o": "output", "--output": "output"}


@dataclass(frozen=True)
class CommandLine:
    """A command line of one of the shapes answered here: the root's options and the
    command's (``--db X``, ``-o X``; the command's win), its flags, its arguments."""

    options: dict[str, str]
    flags: frozenset[str]
    arguments: list[str]


def read_command(
    args: Sequence[str],
    command: Sequence[str],
    *,
    flags: Mapping[str, str] | None = None,
    valued: Mapping[str, str] = _VALUED,
) -> CommandLine | None:
    """``args`` as ``command`` (its words) with the root's valued options (``--db``, ``-o``)
    and its own (``valued``: each spelling -> one name), and its ``flags`` (each spelling ->
    one name, given once at most); else ``None``."""
    flags = flags or {}
    root: dict[str, str] = {}
    rest = list(args)
    while rest and rest[0].startswith("-"):
        if not _take_option(rest, root):
            return None
    if rest[: len(command)] != list(command):
        return None
    del rest[: len(command)]
    own: dict[str, str] = {}
    seen: set[str] = set()
    arguments: list[str] = []
    while rest:
        flag = flags.get(rest[0])
        if flag is not None and flag not in seen:
            seen.add(flag)
            del rest[0]
        elif rest[0].startswith("-"):
            if not _take_option(rest, own, valued):
                return None
        else:
            arguments.append(rest.pop(0))
    return CommandLine(options={**root, **own}, flags=frozenset(seen), arguments=arguments)


@dataclass(frozen=True)
class StacksRequest:
    """``stackctl get stacks`` as the command line gave it, once the root's options have
    reached the command (its own win)."""

    name: str | None
    every: bool
    db: Path | None
    output: GetOutput


def read_request(args: Sequence[str]) -> StacksRequest | None:
    """The request when ``args`` is a plain ``get stacks`` command line, else ``None``."""
    line = read_command(args, ("get", "stacks"), flags={"--all": "all", "-A": "all"})
    if line is None or len(line.arguments) > 1:  # more: typer's "unexpected extra argument"
        return None
    output = PLAIN_OUTPUTS.get(line.options.get("output", "table"))
    if output is None:
        return None
    db = line.options.get("db")
    return StacksRequest(
        name=line.arguments[0] if line.arguments else None,
        every="all" in line.flags,
        db=Path(db) if db else None,
        output=output,
    )


def _take_option(
    rest: list[str], found: dict[str, str], valued: Mapping[str, str] = _VALUED
) -> bool:
    """Move ``--db X`` or ``-o X`` (or another of ``valued``) from ``rest`` into ``found``;
    False for anything else (an option given twice, a value that is missing, empty or looks
    like an option)."""
    key = valued.get(rest[0])
    if key is None or key in found or len(rest) < 2:
        return False
    value = rest[1]
    if not value or value.startswith("-"):
        return False
    found[key] = value
    del rest[:2]
    return True


def _completing() -> bool:
    return any(key.startswith("_") and key.endswith("_COMPLETE") for key in os.environ)


def _database(db: str | Path | None) -> Path | None:
    """The database file the command would open, when there is one (else typer's path says
    what is wrong, as a STACKCTL_* variable that does not parse)."""
    from controller.config.statedir import database_path

    try:
        path = database_path(Path(db) if db else None)
    except Exception:
        return None
    return path if path.is_file() else None


def answer_history(args: Sequence[str]) -> bool:
    """Print a plain ``history STACK`` table (``history_table``) from plain rows and say True;
    else print nothing and say False (typer then runs the command, and says any error)."""
    line = read_command(args, ("history",))
    if line is None or len(line.arguments) != 1 or _completing():
        return False
    if line.options.get("output", "table") != "table":
        return False
    path = _database(line.options.get("db"))
    if path is None:
        return False
    from controller.cli.history_table import COLUMNS, rows
    from controller.cli.output import print_table
    from controller.db.plain_reads import list_stacks, list_versions

    name = line.arguments[0]
    found = list_stacks(path, stack_id=name)
    versions = list_versions(path, name) if found else None
    if not found or versions is None:
        return False
    print_table(COLUMNS, rows(found[0], versions))
    return True


def answer_any(args: Sequence[str]) -> bool:
    """Print the answer of a command line this module (or ``quick_engine``,
    ``quick_describe``) answers and say True; else False."""
    if answer(args) or answer_history(args) or answer_ps(args):
        return True
    if "version" in args or "logs" in args:
        from controller.cli import quick_engine

        if quick_engine.answer_version(args) or quick_engine.answer_logs(args):
            return True
    if "describe" in args:
        from controller.cli import quick_describe

        return quick_describe.answer_describe(args)
    return False


def answer(args: Sequence[str]) -> bool:
    """Print the stacks for a plain ``get stacks`` command line (or the versions for a plain
    ``get versions STACK``) and say True; else print nothing and say False (typer then runs the
    command)."""
    if _completing():
        return False  # typer's shell completion asks
    request = read_request(args)
    if request is None:
        return _answer_versions(args)
    from controller.db.plain_reads import list_stacks

    path = _database(request.db)
    if path is None:
        return False
    found = list_stacks(path, stack_id=request.name)
    if found is None or (request.name is not None and not found):
        return False
    shown = [s for s in found if request.every or request.name is not None or not deleted(s)]
    print_all(STACKS, shown, request.output)
    return True


def _answer_versions(args: Sequence[str]) -> bool:
    """``get versions STACK`` with ``-o table|wide|name`` (no ``--watch``), from plain rows."""
    line = read_command(args, ("get", "versions"))
    if line is None or len(line.arguments) != 1:
        return False
    output = PLAIN_OUTPUTS.get(line.options.get("output", "table"))
    path = _database(line.options.get("db"))
    if output is None or path is None:
        return False
    from controller.cli.history_table import VERSIONS
    from controller.db.plain_reads import list_stacks, list_versions

    name = line.arguments[0]
    found = list_stacks(path, stack_id=name)
    versions = list_versions(path, name) if found else None
    if not found or versions is None:
        return False
    print_all(VERSIONS, versions, output)
    return True


ENGINE_TIMEOUT = 10  # as ps_and_logs.ENGINE_TIMEOUT


def answer_ps(args: Sequence[str]) -> bool:
    """``ps [STACK]`` as a table, for a stack on the local engine reached over its unix socket
    with no engines file: one ``GET /containers/json`` (``backends.docker.plain_api``) and the
    rows ``ps`` makes of it (``backends.docker.summaries``). Anything else (another engine or
    output, an engines file, a ``STACKCTL_*`` setting besides the database, an engine that does
    not answer as expected) is typer's, which also says any error."""
    line = read_command(args, ("ps",))
    if line is None or len(line.arguments) > 1 or _completing() or not _plain_settings():
        return False
    if line.options.get("output", "table") != "table":
        return False
    from controller.backends.docker.plain_api import get_json, local_socket

    socket_path = local_socket(os.environ)
    stack = line.arguments[0] if line.arguments else None
    if socket_path is None or (stack is not None and not _on_local(stack, line.options)):
        return False
    from controller.backends.docker.summaries import project_filter, ps_table, summarize

    filters = json.dumps({"label": project_filter(stack)})
    query = {"limit": "-1", "all": "1", "size": "0", "trunc_cmd": "0", "filters": filters}
    listed = get_json("/containers/json", query, socket_path=socket_path, timeout=ENGINE_TIMEOUT)
    if not isinstance(listed, list):
        return False
    from controller.cli.output import print_table

    print_table(*ps_table(summarize(listed), every=stack is None))
    return True


def _plain_settings() -> bool:
    """No ``STACKCTL_*`` variable but a non-empty ``STACKCTL_DB`` (as ``running.plain_environment``,
    and no ``STACKCTL_ENGINES``: the engines file is typer's path)."""
    return all(
        key == "STACKCTL_DB" and value
        for key, value in os.environ.items()
        if key.startswith("STACKCTL_") and key == key.upper()
    )


def _on_local(stack: str, options: Mapping[str, str]) -> bool:
    """The stack targets ``local`` (or the database does not know it: ``ps`` looks there)."""
    path = _database(options.get("db"))
    if path is None:
        return True  # no database: the stack is looked for on local (``targets.py``)
    from controller.db.plain_reads import stack_target

    found = stack_target(path, stack)
    return found is not None and found[0] in (None, "local")
