"""``stackctl --version`` and ``--help`` work, also as ``python -m controller``."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from controller import __version__
from controller.cli import app

runner = CliRunner()


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"stackctl {__version__}"


def test_help_lists_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "run" in result.stdout


def test_python_dash_m_controller():
    result = subprocess.run(
        [sys.executable, "-m", "controller", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"stackctl {__version__}"


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    probe = f"{code}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


# Start-up time of a one-shot command is mostly imports (bench/cli_startup.py measures it):
# the command line loads a layer only when a command needs it.
HEAVY = {"docker", "pydantic", "yaml", "sqlite3", "watchfiles", "fastapi", "uvicorn",
         "controller.db", "controller.sources.loader", "controller.backends.docker",
         "controller.reconcile.reconciler",
         "controller.daemon.process", "controller.commands.operations", "controller.models.command"}


def test_the_command_line_loads_no_layer_before_a_command_needs_it():
    assert loaded_after("import controller.cli") & HEAVY == set()


def test_read_commands_load_neither_the_engine_nor_the_source_layer(tmp_path):
    from controller.db import Database

    db = tmp_path / "stackctl.db"
    Database(db_path=db).close()
    loaded = loaded_after(
        "from typer.testing import CliRunner\nfrom controller.cli import app\n"
        f"result = CliRunner().invoke(app, ['get', 'stacks', '--db', {str(db)!r}])\n"
        "assert result.exit_code == 0, result.output")
    assert "controller.db" in loaded
    heavy = {"docker", "controller.backends.docker", "controller.sources.loader", "fastapi"}
    assert loaded & heavy == set()
