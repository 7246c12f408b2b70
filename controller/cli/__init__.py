"""The ``stackctl`` command line: thin, it reads through repositories and writes only commands.

Each sub-command lives in its own module and registers itself on ``controller.cli.app.app``;
importing this package imports them all. The command modules import the layers below them
(database, source, engine, daemon) inside the commands, so that a command loads only what it
uses: ``stackctl --version`` and the read commands start in a fraction of the time
(``bench/cli_startup.py``; ``tests/cli/test_cli_version_and_help.py`` keeps it so).
"""

from __future__ import annotations

# Importing a command module registers its commands on the app.
from controller.cli import (  # noqa: F401
    actions,
    containers,
    converge,
    describe,
    queries,
    repositories,
    run,
    validate,
    version,
)
from controller.cli.app import app


def main() -> None:
    """Console-script entry point."""
    app()
