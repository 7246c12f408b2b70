"""``stackctl run``: the controller daemon (watcher + workers)."""

from __future__ import annotations

from pathlib import Path

import typer

from controller.cli.app import app
from controller.config import load_settings


@app.command()
def run(
    manifests: Path | None = typer.Option(None, help="Watched directory [default: ./manifests]."),
    db: Path | None = typer.Option(None, help="Database file [default: storage/stackctl.db]."),
) -> None:
    """Watch a directory of manifests and converge the engine to it (not implemented yet)."""
    settings = load_settings({"manifests": manifests, "db": db})
    typer.echo(
        f"stackctl run: the controller daemon is not implemented yet "
        f"(would watch {settings.manifests} with database {settings.db}).",
        err=True,
    )
    raise typer.Exit(code=1)
