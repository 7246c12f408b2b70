"""The typer application every ``stackctl`` sub-command registers on, and its last word on
errors: a project error that a command did not handle (a corrupt or unopenable database, a
database fault) is one ``error:`` line on stderr and exit 1, never a traceback. Usage errors
stay typer's (exit 2).

The commands are listed here, by name, module and one-line help (``COMMANDS``, ``KINDS``): a
command's module is imported only when that command runs (``lazy.py``), so that a one-shot
command loads only what it uses (``bench/cli_startup.py``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import typer

from controller import __version__
from controller.cli.coercion import PlainTyper
from controller.cli.lazy import Lazy, LazyGroup
from controller.cli.plain_io import CommandExit
from controller.models.errors import StackctlError

_ACTIONS = "controller.cli.actions"
_CONTAINERS = "controller.cli.ps_and_logs"
_CONVERGE = "controller.cli.converge"
_QUERIES = "controller.cli.queries"
_TOKENS = "controller.cli.tokens"

# In the order `stackctl --help` lists them; `get` (below) comes last.
COMMANDS = {
    "rollback": Lazy(
        _ACTIONS, "Apply an older version again, recorded as a new one, and pin the stack."
    ),
    "suspend": Lazy(
        _ACTIONS,
        "Stop converging the stack: nothing changes at runtime (drift included) until resumed.",
    ),
    "resume": Lazy(
        _ACTIONS, "Unpin and unsuspend the stack and apply its latest recorded version."
    ),
    "sync": Lazy(
        _ACTIONS,
        "Reconcile the stack now: observe the engine and correct drift; or, with\n"
        "--repository NAME, have the running controller fetch that repository now.",
    ),
    "move": Lazy(
        _ACTIONS, "Move the stack to the engine its manifest now targets (spec.target.engine)."
    ),
    "cancel": Lazy(
        _ACTIONS,
        "Stop a command: a pending or backing-off one now, a running one at its next step.",
    ),
    "ps": Lazy(
        _CONTAINERS,
        "The stacks' containers: state, health, published ports, the version that made them.",
    ),
    "logs": Lazy(
        _CONTAINERS,
        "The containers' output (stdout and stderr), each line prefixed with its container.",
    ),
    "apply": Lazy(_CONVERGE, "Record new versions of the stacks at PATH and converge them now."),
    "diff": Lazy(
        _CONVERGE,
        "Show the plan without executing it: exit 0 no differences, 1 differences, 2 error.",
    ),
    "delete": Lazy(
        _CONVERGE,
        "Tear a stack down (containers, networks; volumes with --volumes), recording it.",
    ),
    "describe": Lazy(
        "controller.cli.describe",
        "Status, conditions, services with their containers, last commands, recent events.\n"
        "A Swarm stack: its services and their tasks instead of containers.\n"
        "describe repository NAME: a followed git repository and how its last fetch went.\n"
        "describe command ID: a command's fields and its log lines.",
    ),
    "history": Lazy(
        _QUERIES,
        "A stack's versions with their lineage: parent, digest, who and why, which is applied.",
    ),
    "command-logs": Lazy(
        _QUERIES, "Show a command's log lines, or those of a stack's last commands."
    ),
    "run": Lazy(
        "controller.cli.run",
        "Watch a directory of manifests and converge the engine to it, until SIGTERM/SIGINT.",
    ),
    "validate": Lazy(
        "controller.cli.validate",
        "Validate manifests: one line per stack (OK name digest source), per repository\n"
        "(OK repository name source) or per error.",
    ),
    "version": Lazy(
        "controller.cli.version",
        "stackctl's version and the Docker engine's (exit 1 when the engine does not answer).",
    ),
    "audit": Lazy(
        "controller.cli.audit_log",
        "Who changed what, newest first: the audit log of the API, the console, webhooks and\n"
        "this command line.",
    ),
}

# `stackctl get KIND`.
KINDS = {
    "stacks": Lazy(
        _QUERIES,
        "The stacks: desired and applied version, sync, health, suspended, pinned, age. Deleted\n"
        "stacks are left out unless --all (or named).",
    ),
    "versions": Lazy(
        _QUERIES,
        "A stack's versions, oldest first (with -o json, each with its compose document).",
    ),
    "commands": Lazy(
        _QUERIES,
        "The queue, newest first; the cursor of the next page (if any) is printed on stderr.",
    ),
    "repositories": Lazy(
        "controller.cli.repositories",
        "Every followed git repository: URL, ref, path, last commit, last fetch and its result.",
    ),
}


# `stackctl token ACTION`.
TOKEN_ACTIONS = {
    "create": Lazy(_TOKENS, "Make a token for the API and print it, once: only its hash is kept."),
    "list": Lazy(_TOKENS, "The tokens (never their secrets): role, stacks, owner, expiry, use."),
    "revoke": Lazy(_TOKENS, "Revoke a token: every request with it is refused from now on."),
}


class _Commands(LazyGroup):
    """The root group: wraps every sub-command (nested groups run inside its ``invoke``)."""

    table = COMMANDS

    def registry(self) -> typer.Typer:
        return app

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except StackctlError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(1) from e
        except CommandExit as e:  # a command's body that runs without typer too (plain_io.py)
            raise typer.Exit(e.code) from e


class _Kinds(LazyGroup):
    table = KINDS

    def registry(self) -> typer.Typer:
        return get_app


app = PlainTyper(
    name="stackctl",
    help="A reconciliation controller for Docker Compose stacks: GitOps without Kubernetes.",
    no_args_is_help=True,
    cls=_Commands,
)


get_app = PlainTyper(
    help="List stacks, versions, commands or repositories.", no_args_is_help=True, cls=_Kinds
)
app.add_typer(get_app, name="get")


class _TokenActions(LazyGroup):
    table = TOKEN_ACTIONS

    def registry(self) -> typer.Typer:
        return token_app


token_app = PlainTyper(
    help="Personal and service tokens for the API: create, list, revoke.",
    no_args_is_help=True,
    cls=_TokenActions,
)
app.add_typer(token_app, name="token")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"stackctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
    # Read by the commands' own --db (controller.cli.db_option.from_root), which wins.
    db: Path | None = typer.Option(
        None, "--db", help="Database file for the command (its own --db wins)."
    ),
    output: str | None = typer.Option(
        None, "--output", "-o", help="Output format for the command (its own -o wins)."
    ),
) -> None:
    """stackctl: declare Compose stacks as files; stackctl converges the engine to them."""
    if output is not None:
        # Every command's -o defaults to it (checked against that command's choices).
        ctx.default_map = _Defaults(ctx.command, name="output", value=output)


class _Defaults(Mapping[str, Any]):
    """A click ``default_map`` giving ``value`` to the option ``name`` of every sub-command.

    click only asks it for the command that runs (``get(sub_name)``): looking a command up
    here loads that command alone, not every module (``lazy.py``)."""

    def __init__(self, command: Any, *, name: str, value: object) -> None:
        self._command, self._name, self._value = command, name, value

    def __getitem__(self, sub_name: str) -> Any:
        sub = getattr(self._command, "commands", {}).get(sub_name)
        if sub is None:
            raise KeyError(sub_name)
        if hasattr(sub, "commands"):
            return _Defaults(sub, name=self._name, value=self._value)
        if any(param.name == self._name for param in sub.params):
            return {self._name: self._value}
        raise KeyError(sub_name)

    def __iter__(self) -> Iterator[str]:
        return (name for name in getattr(self._command, "commands", {}) if name in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)
