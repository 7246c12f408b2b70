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
from controller.cli.output import Output
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
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
    # Read by the sub-commands' own --db and -o (controller.cli.options.from_root), which win.
    db: Path | None = typer.Option(
        None, "--db", help="Database file for the command (its own --db wins)."
    ),
    output: Output | None = typer.Option(
        None, "--output", "-o", help="table, json or yaml for the command (its own -o wins)."
    ),
) -> None:
    """stackctl: declare Compose stacks as files; stackctl converges the engine to them."""
