"""The client's command line (``argparse``) and its dispatch: which function answers each
command, with which ``Session`` (the server, the token, the output format).

The root's options (``--server``, ``--token-file``, ``-o``) may come before the command or
after it, as the local CLI's ``-o`` may. A command of the local CLI that has no meaning against
a controller is refused here with a sentence saying so (exit 2), never run against the local
database by surprise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.cli.plain_io import echo
from controller.cli.remote import SERVER_ENV, command_word, flagged
from controller.cli.remote.client import Client, RemoteError, normal_server

# The local CLI's commands that work on this machine only.
LOCAL_ONLY = {
    "run": "watches a folder and runs the controller here",
    "validate": "checks files here (with --server, `diff PATH` asks the controller)",
    "delete": "tears a stack down from this machine's database",
    "move": "approves a move in this machine's database",
    "command-logs": "reads this machine's database (with --server: `describe STACK`)",
    "version": "asks this machine's engine",
}
OUTPUTS = ("table", "json", "yaml")
GET_OUTPUTS = ("table", "wide", "name", "json", "yaml")


@dataclass(frozen=True)
class Session:
    """What every command gets: the client, the output format, the environment."""

    client: Client
    output: str
    environ: Mapping[str, str]
    token_file: Path | None


Handler = Callable[[Session, argparse.Namespace], int]


def run(args: list[str], environ: Mapping[str, str]) -> int | None:
    """Parse ``args`` and run the command (its exit status); ``None`` for a local command that
    runs here (``validate`` with ``STACKCTL_SERVER`` alone)."""
    word = command_word(args)
    if word in LOCAL_ONLY:
        if word == "validate" and not flagged(args):
            return None
        return _local_only(word, flagged(args))
    parser = build_parser()
    if word is None and not any(a in ("-h", "--help") for a in args):
        parser.print_usage(sys.stderr)
        echo("error: give a command (stackctl --server URL --help lists them)", err=True)
        return 2
    found = parser.parse_args(args)  # usage errors: argparse's message and exit 2
    try:
        session = _session(found, environ)
        return found.handler(session, found)
    except RemoteError as e:
        echo(f"error: {e.message}", err=True)
        for problem in e.errors:
            echo(f"  {problem_line(problem)}", err=True)
        return e.code
    except KeyboardInterrupt:
        return 130


def _local_only(word: str, flag: bool) -> int:
    why = LOCAL_ONLY[word]
    how = "drop --server" if flag else f"unset {SERVER_ENV}"
    echo(f"error: `stackctl {word}` {why}: it does not talk to a controller; {how}", err=True)
    return 2


def problem_line(problem: Any) -> str:
    """One of a 422's ``errors``: a text, or a manifest's ``{file, line, path, message}``."""
    if not isinstance(problem, dict):
        return str(problem)
    where = str(problem.get("file") or "")
    if problem.get("line"):
        where += f":{problem['line']}"
    key = f"{problem['path']}: " if problem.get("path") else ""
    return f"{where}: {key}{problem.get('message', '')}" if where else f"{key}{problem}"


def _session(found: argparse.Namespace, environ: Mapping[str, str]) -> Session:
    from controller.cli.remote.credentials import token_for

    if getattr(found, "db", None) is not None:
        raise RemoteError(
            "--db names a database here; with --server the controller's is used", code=2
        )
    server = getattr(found, "server", None) or environ.get(SERVER_ENV, "")
    if not server:
        raise RemoteError(f"give --server URL (or set {SERVER_ENV})", code=2)
    server = normal_server(server)
    output = getattr(found, "output", None) or "table"
    allowed = getattr(found, "outputs", OUTPUTS)
    if output not in allowed:
        raise RemoteError(f"-o {output}: this command prints {', '.join(allowed)}", code=2)
    token_file = getattr(found, "token_file", None)
    token = None if found.handler_name in ("login",) else token_for(server, token_file, environ)
    return Session(Client(server, token), output, environ, token_file)


def _common(*, root: bool) -> argparse.ArgumentParser:
    """The options every command takes, before or after its name."""
    default = None if root else argparse.SUPPRESS
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--server",
        metavar="URL",
        default=default,
        help=f"The controller's URL (else {SERVER_ENV}).",
    )
    common.add_argument(
        "--token-file",
        metavar="FILE",
        type=Path,
        default=default,
        help="A file holding the token (else STACKCTL_TOKEN, else `login`'s).",
    )
    common.add_argument(
        "-o",
        "--output",
        metavar="FORMAT",
        default=default,
        help="table, json (the API's JSON) or yaml; `get`: also wide, name.",
    )
    common.add_argument("--db", default=default, help=argparse.SUPPRESS)
    return common


def build_parser() -> argparse.ArgumentParser:
    from controller.cli.remote import engine, files, reads, session, writes

    parser = argparse.ArgumentParser(
        prog="stackctl --server URL",
        parents=[_common(root=True)],
        description="stackctl as a client of a controller's HTTP API, with your token.",
    )
    commands = parser.add_subparsers(metavar="COMMAND", required=True)
    common = _common(root=False)

    def add(name: str, handler: Handler, text: str, **options: Any) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=text, description=text)
        sub.set_defaults(handler=handler, handler_name=name, **options)
        return sub

    get = commands.add_parser("get", help="List stacks, versions or commands.")
    kinds = get.add_subparsers(metavar="KIND", required=True)
    reads.add_get(kinds, common, outputs=GET_OUTPUTS)
    reads.add_commands(add)
    writes.add_commands(add)
    files.add_commands(add)
    engine.add_commands(add)
    session.add_commands(add)
    return parser
