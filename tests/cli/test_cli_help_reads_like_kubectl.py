"""The help reads like kubectl's (issue 25, item 3): a flag that takes no value shows no
``<bool>`` metavar, and no help text shows raw double-backtick markup."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def help_text(*args: str) -> str:
    env = {**os.environ, "COLUMNS": "400", "TERMINAL_WIDTH": "400"}
    result = subprocess.run([sys.executable, "-m", "controller", *args, "--help"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("command", [[], ["run"], ["get", "stacks"], ["apply"], ["sync"]])
def test_flags_show_no_bool_metavar_and_no_backticks(command):
    text = help_text(*command)
    assert "<bool>" not in text
    assert "``" not in text
    assert "--help" in text


def test_value_options_still_show_their_type():
    text = help_text("run")
    assert "--workers" in text and "<int" in text
