"""``stackctl run``: the controller daemon (watcher + workers + resync)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import typer

from controller.cli.app import app
from controller.config import load_settings
from controller.errors import StackctlError
from controller.logs import configure_logging

log = logging.getLogger("stackctl.controller")


@app.command()
def run(
    manifests: Path | None = typer.Option(None, help="Watched directory [default: ./manifests]."),
    db: Path | None = typer.Option(None, help="Database file [default: storage/stackctl.db]."),
    workers: int | None = typer.Option(None, min=1, help="Stacks converged at once [default: 1]."),
    resync: float | None = typer.Option(
        None, min=1, help="Seconds between drift checks of every stack [default: 60]."
    ),
    debounce: int | None = typer.Option(
        None, min=1, help="Milliseconds of quiet that end a burst of file changes [default: 50]."
    ),
    log_format: str | None = typer.Option(None, help="text or json [default: text]."),
    allow_empty: bool = typer.Option(
        False, help="Allow an empty watched directory to delete every stack it produced."
    ),
    timeout: float = typer.Option(120.0, help="Seconds to wait for dependencies and health."),
    max_failures: int | None = typer.Option(
        None,
        min=1,
        help="Failed attempts (transient errors) after which a command ends FAILED; the next"
        " resync or edit tries again [default: 5].",
    ),
    api: str | None = typer.Option(
        None, help="HOST:PORT of the HTTP API [default: 127.0.0.1:8420]."
    ),
    no_api: bool = typer.Option(False, "--no-api", help="Serve no HTTP API."),
    api_open_reads: bool | None = typer.Option(
        None,
        "--api-open-reads/--no-api-open-reads",
        help="With STACKCTL_API_TOKEN set, serve the read endpoints without the token too"
        " (they show resolved environment values) [env STACKCTL_API_OPEN_READS; default: no].",
    ),
) -> None:
    """Watch a directory of manifests and converge the engine to it, until SIGTERM/SIGINT."""
    from controller.daemon import Controller, DaemonOptions

    settings = load_settings(
        {
            "manifests": manifests,
            "db": db,
            "workers": workers,
            "resync": resync,
            "debounce_ms": debounce,
            "log_format": log_format,
            "api": api,
            "api_open_reads": api_open_reads,
            "max_failures": max_failures,
        }
    )
    try:
        configure_logging(settings.log_format)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e
    options = DaemonOptions(
        manifests=settings.manifests,
        db=settings.db,
        workers=settings.workers,
        resync=settings.resync,
        quiet_ms=settings.debounce_ms,
        allow_empty=allow_empty,
        wait_timeout=timeout,
        max_failures=settings.max_failures,
        api=None if no_api else _address(settings.api),
        api_token=os.environ.get("STACKCTL_API_TOKEN") or None,
        api_open_reads=settings.api_open_reads,
    )
    try:
        controller = Controller(options)  # AlreadyRunning when another controller holds the db
    except StackctlError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from e
    controller.install_signal_handlers()
    try:
        code = controller.run()
    except StackctlError as e:  # e.g. the API's port is taken
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from e
    raise typer.Exit(code)


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise typer.BadParameter(f"--api wants HOST:PORT, like 127.0.0.1:8420, not {text!r}")
    return host.strip("[]"), int(port)
