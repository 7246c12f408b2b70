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
