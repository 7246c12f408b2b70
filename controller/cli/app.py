"""The typer application every ``stackctl`` sub-command registers on."""

from __future__ import annotations

import typer

from controller import __version__

app = typer.Typer(
    name="stackctl",
    help="A reconciliation controller for Docker Compose stacks: GitOps without Kubernetes.",
    no_args_is_help=True,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"stackctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """stackctl: declare Compose stacks as files; stackctl converges the engine to them."""
