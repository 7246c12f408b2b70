"""The ``stackctl`` command line: thin, it reads through repositories and writes only commands.

Each sub-command lives in its own module and registers itself on ``controller.cli.app.app``;
``app.py`` lists them by name and imports a command's module only when that command runs
(``lazy.py``). The command modules import the layers below them (database, source, engine,
daemon) inside the commands, so that a command loads only what it uses; ``stackctl --version``,
the plain reads (``get stacks``, ``get versions``, ``history``, ``ps``: ``quick.py``; ``logs``,
``version``: ``quick_engine.py``; ``describe``: ``quick_describe.py``) and a plain
``apply``/``diff``/``validate`` of manifests (``quick_files.py``) are answered before typer is
imported: one-shot commands start in a fraction of the time (``bench/cli_startup.py``;
``tests/cli/test_cli_version_and_help.py`` keeps it so). With ``--server URL`` (or
``STACKCTL_SERVER``) the command is sent to a controller's HTTP API instead
(``controller.cli.remote``), before anything else is imported.
"""

from __future__ import annotations

import sys
from types import ModuleType

from controller import __version__

# The commands quick.py may answer before typer (a word of the command line: cheap to check).
QUICK_WORDS = frozenset({"get", "history", "ps", "logs", "describe", "version"})
# The commands quick_files.py may answer before typer.
FILE_WORDS = frozenset({"apply", "diff", "validate"})


def main() -> None:
    """Console-script entry point."""
    args = sys.argv[1:]
    if args == ["--version"]:  # the same line as the app's --version, without typer
        sys.stdout.write(f"stackctl {__version__}\n")
        return
    _remote(args)
    if QUICK_WORDS.intersection(args):
        from controller.cli.quick import answer_any

        try:
            if answer_any(args):  # a plain `get stacks`, `history`, `ps`... without typer
                return
        except BrokenPipeError:  # its reader went away (`| head`): as typer's commands end
            from controller.cli.plain_io import pacify_closed_pipe

            pacify_closed_pipe()
            sys.exit(1)
    from controller.cli.pydantic_plugins import skip_plugin_lookup

    skip_plugin_lookup()  # what follows loads pydantic: without its plugin lookup when none
    if FILE_WORDS.intersection(args):
        from controller.cli.quick_files import answer_files

        code = answer_files(args)  # a plain `apply DIR`, `diff DIR`, `validate DIR...`
        if code is not None:
            sys.exit(code)
    from controller.cli.app import app

    app()


def _remote(args: list[str]) -> None:
    """``--server URL`` (or ``STACKCTL_SERVER``, ``login``, ``logout``): the command is the
    client's (``controller.cli.remote``), which exits; else it returns and the CLI works here."""
    import os

    from controller.cli import remote

    if remote.requested(args, os.environ):
        code = remote.answer(args, os.environ)
        if code is not None:
            sys.exit(code)


def __getattr__(name: str) -> object:  # not typing.Any: --version loads no typing
    # `from controller.cli import app` is the typer app, loaded on first use (PEP 562).
    if name == "app":
        from controller.cli.app import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Package(ModuleType):
    def __setattr__(self, name: str, value: object) -> None:
        # Importing the submodule controller.cli.app sets the package's `app` to that module;
        # `controller.cli.app` stays the typer app (__getattr__), as when this file imported it.
        if name == "app" and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
