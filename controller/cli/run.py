"""``stackctl run``: the controller daemon (watcher + workers + resync).

Its options are ``controller.config.settings.Settings``' fields
(``settings_options.with_settings``; ``--db``, ``--engines`` and ``--timeout`` are declared as
every command declares them) plus ``--config``; the daemon's options are made from the settings
by ``daemon_options.daemon_options``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import typer

from controller.cli.app import app
from controller.cli.daemon_options import (  # noqa: F401  (tests reach them here)
    _destinations,
    _repository,
    _retention,
    _watched,
    daemon_options,
)
from controller.cli.running import DB_OPTION, ENGINES_OPTION, timeout_option
from controller.cli.settings_options import given_settings, with_settings
from controller.config.logs import configure_logging
from controller.config.settings import load_settings
from controller.models.errors import StackctlError

log = logging.getLogger("stackctl.controller")


@app.command()
@with_settings
def run(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None,
        "--config",
        envvar="STACKCTL_CONFIG",
        help="YAML file of settings (keys: the settings' names, e.g. workers: 4); a flag or a"
        " STACKCTL_* variable wins over it.",
    ),
    db: Path | None = DB_OPTION,
    engines: Path | None = ENGINES_OPTION,
    timeout: float = timeout_option(envvar="STACKCTL_TIMEOUT"),
    **settings: Any,
) -> None:
    """Watch a directory of manifests and converge the engine to it, until SIGTERM/SIGINT."""
    from controller.daemon.process import Controller

    # --timeout has a default, as on every command: left to it, a --config file may set it.
    source = ctx.get_parameter_source("timeout")
    shared = {"db": db, "engines": engines, "timeout": None if _left(source) else timeout}
    try:
        resolved = load_settings(given_settings({**settings, **shared}), config_file=config)
        configure_logging(resolved.log_format)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e
    _use_age_key(resolved.sops_age_key_file)
    options = daemon_options(resolved)
    try:
        controller = Controller(options)  # AlreadyRunning when another controller holds the db
        controller.install_signal_handlers()
        code = controller.run()
    except StackctlError as e:  # another controller holds the db; the API's port is taken
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from e
    raise typer.Exit(code)


def _left(source: object) -> bool:
    """The option took its default (typer's own click has its own ``ParameterSource``)."""
    return getattr(source, "name", None) == "DEFAULT"


def _use_age_key(path: Path | None) -> None:
    """Every decryption of this process (the loader's check, the runtime's at apply) uses it."""
    if path is None:
        return
    if not path.is_file():
        raise typer.BadParameter(f"{path}: no such file", param_hint="--sops-age-key-file")
    from controller.sources.secrets import configure

    configure(age_key_file=path)
