"""The typer application every ``stackctl`` sub-command registers on, and its last word on
errors: a project error that a command did not handle (a corrupt or unopenable database, a
database fault) is one ``error:`` line on stderr and exit 1, never a traceback. Usage errors
stay typer's (exit 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import typer
from typer.core import TyperGroup

from controller import __version__
from controller.errors import StackctlError


class _Commands(TyperGroup):
    """The root group: wraps every sub-command (nested groups run inside its ``invoke``)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except StackctlError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(1) from e


app = typer.Typer(
    name="stackctl",
    help="A reconciliation controller for Docker Compose stacks: GitOps without Kubernetes.",
    no_args_is_help=True,
    cls=_Commands,
)


# `stackctl get KIND`: queries (stacks, versions, commands) and repositories add their kinds.
get_app = typer.Typer(help="List stacks, versions, commands or repositories.", no_args_is_help=True)
app.add_typer(get_app, name="get")


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
    # Read by the commands' own --db (controller.cli.options.from_root), which wins.
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
        ctx.default_map = _defaults(ctx.command, name="output", value=output)


def _defaults(command: click.Command, *, name: str, value: object) -> dict[str, Any]:
    """A click ``default_map`` giving ``value`` to the option ``name`` of every sub-command."""
    found: dict[str, Any] = {}
    for sub_name, sub in getattr(command, "commands", {}).items():
        if hasattr(sub, "commands"):
            found[sub_name] = _defaults(sub, name=name, value=value)
        elif any(param.name == name for param in sub.params):
            found[sub_name] = {name: value}
    return found
