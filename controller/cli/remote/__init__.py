"""``stackctl --server URL ...``: the command line as a client of a controller's HTTP API.

With ``--server URL`` (or ``STACKCTL_SERVER``), ``get``, ``describe``, ``history``, ``sync``,
``rollback``, ``suspend``, ``resume``, ``cancel``, ``audit``, ``apply``, ``diff``, ``ps``,
``logs`` and ``whoami`` ask the controller at URL instead of the local database, as the
caller: the bearer token of ``--token-file FILE``, else ``STACKCTL_TOKEN``, else the one
``stackctl login --server URL`` stored (``credentials.py``). The controller checks the
token's role on each stack and records each change in its audit log under the caller's name.

``controller.cli.main`` asks ``requested`` first, before anything heavy is imported: this
path is the standard library (``argparse``, ``urllib.request``, ``json``) and the CLI's
typer-free tables (``listing.py``, ``quick.STACKS``, ``history_table.py``), never typer,
pydantic, rich (off a terminal), the Compose models or docker; a test pins it
(``tests/remote/test_remote_cli_imports_only_the_standard_library_and_its_tables.py``).

Commands that work on this machine only (``run``, ``validate``, ``delete``, ``move``,
``command-logs``, ``get repositories``, ``version``) are refused with ``--server`` (exit 2),
saying so; with ``STACKCTL_SERVER`` alone, ``validate`` (a check of files here that asks no
controller) runs locally.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

SERVER_ENV = "STACKCTL_SERVER"
TOKEN_ENV = "STACKCTL_TOKEN"
# The root's options that take a value (to find the command word after them).
VALUED = frozenset({"--server", "--token-file", "--db", "-o", "--output"})
# Commands that are always the client's (they name a server).
ALWAYS = frozenset({"login", "logout"})


def command_word(args: Sequence[str]) -> str | None:
    """The first word of ``args`` that is not a root option or its value."""
    rest = list(args)
    while rest:
        word = rest.pop(0)
        if word in VALUED:
            if rest:
                rest.pop(0)
            continue
        if word.startswith("-"):
            continue
        return word
    return None


def flagged(args: Sequence[str]) -> bool:
    """``--server`` is on the command line."""
    return any(a == "--server" or a.startswith("--server=") for a in args)


def requested(args: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Whether ``args`` are the client's: ``--server`` given, ``STACKCTL_SERVER`` set, or
    ``login``/``logout`` (never while the shell asks typer to complete a word). Cheap:
    ``main`` asks it before importing anything."""
    if any(key.startswith("_") and key.endswith("_COMPLETE") for key in environ):
        return False
    return flagged(args) or bool(environ.get(SERVER_ENV)) or command_word(args) in ALWAYS


def answer(args: Sequence[str], environ: Mapping[str, str]) -> int | None:
    """The exit status of the client's command ``args``; ``None``: a command that runs here
    (``validate`` with ``STACKCTL_SERVER`` alone), which the local CLI then runs."""
    from controller.cli.remote.commands import run

    return run(list(args), environ)
