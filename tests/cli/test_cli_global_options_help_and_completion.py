"""``--db`` and ``-o`` also work before the command (the command's own win); the help shows
each setting's ``STACKCTL_*`` variable and default; shell completion can be installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
from typer.testing import CliRunner

from controller.cli import app
from controller.config.settings import Settings
from controller.db import Database

runner = CliRunner()


@pytest.fixture
def two_databases(tmp_path: Path) -> tuple[Path, Path]:
    """``a.db`` with one stack, ``b.db`` empty."""
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    (tmp_path / "hello.yaml").write_text("services:\n  web:\n    image: busybox\n")
    done = runner.invoke(app, ["apply", str(tmp_path / "hello.yaml"), "--no-wait", "--db", str(a)])
    assert done.exit_code == 0, done.output
    Database(db_path=b).close()
    return a, b


def stacks(result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [s["stack_id"] for s in json.loads(result.stdout)]


def test_db_and_output_before_the_command(two_databases):
    a, _ = two_databases
    assert stacks(runner.invoke(app, ["--db", str(a), "-o", "json", "get", "stacks"])) == ["hello"]
    history = runner.invoke(app, ["--db", str(a), "--output", "yaml", "history", "hello"])
    assert history.exit_code == 0 and history.stdout.startswith("- "), history.output


def test_the_commands_own_options_win(two_databases):
    a, b = two_databases
    result = runner.invoke(app, ["--db", str(a), "-o", "yaml", "get", "stacks", "--db", str(b),
                                 "-o", "json"])
    assert stacks(result) == []


def test_the_root_db_wins_over_stackctl_db(two_databases):
    a, b = two_databases
    result = runner.invoke(app, ["--db", str(a), "get", "stacks", "-o", "json"],
                           env={"STACKCTL_DB": str(b)})
    assert stacks(result) == ["hello"]
    result = runner.invoke(app, ["get", "stacks", "-o", "json"], env={"STACKCTL_DB": str(b)})
    assert stacks(result) == []


def help_text(*args: str) -> str:
    """The help as a wide terminal shows it (nothing folded)."""
    env = {**os.environ, "COLUMNS": "400", "TERMINAL_WIDTH": "400"}
    result = subprocess.run([sys.executable, "-m", "controller", *args, "--help"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_run_help_names_every_settings_variable():
    text = help_text("run")
    for f in fields(Settings):
        assert f"STACKCTL_{f.name.upper()}" in text, f.name
    assert "[default:" in text


@pytest.mark.parametrize("command", [["get", "stacks"], ["apply"], ["sync"], ["delete"]])
def test_every_db_option_shows_its_variable_and_default(command):
    text = help_text(*command)
    assert "env var: STACKCTL_DB" in text
    default = "/var/lib/stackctl/stackctl.db" if os.geteuid() == 0 else "/stackctl/stackctl.db"
    assert default in text


def test_completion_is_on():
    top = help_text()
    assert "--install-completion" in top and "--show-completion" in top
    # Typer detects the shell; its test switch makes it take the shell named instead.
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    stackctl = Path(sys.executable).with_name("stackctl")
    result = subprocess.run([str(stackctl), "--show-completion", "bash"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "_STACKCTL_COMPLETE=complete_bash" in result.stdout
    assert "complete -o default -F _stackctl_completion stackctl" in result.stdout


def test_an_output_the_command_does_not_have_is_a_usage_error(two_databases):
    a, _ = two_databases
    result = runner.invoke(app, ["--db", str(a), "-o", "xml", "history", "hello"])
    assert result.exit_code == 2
    assert "'xml' is not one of" in result.output
