"""``stackctl run``'s retention settings: flags beat STACKCTL_KEEP_* which beat the defaults,
the defaults are ``RetentionPolicy``'s, and a value it cannot use is a usage error naming it."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from controller.cli import app
from controller.cli.run import _retention
from controller.config.settings import load_settings
from controller.db import RetentionPolicy

runner = CliRunner()


def test_the_defaults_are_the_retention_policys():
    settings = load_settings({}, environ={"HOME": "/home/ann"}, euid=1000)
    assert _retention(settings) == RetentionPolicy()


def test_flags_beat_the_environment():
    environ = {"HOME": "/h", "STACKCTL_KEEP_COMMANDS": "20", "STACKCTL_KEEP_DAYS": "2.5",
               "STACKCTL_EVENT_DAYS": "9"}
    assert _retention(load_settings({}, environ=environ)) == RetentionPolicy(
        keep_commands=20, keep_days=2.5, event_days=9)
    assert _retention(load_settings({"keep_commands": 3}, environ=environ)) == RetentionPolicy(
        keep_commands=3, keep_days=2.5, event_days=9)


def test_an_unusable_value_is_a_usage_error(tmp_path: Path):
    args = ["run", "--no-api", "--db", str(tmp_path / "s.db"), "--manifests", str(tmp_path)]
    by_flag = runner.invoke(app, [*args, "--keep-commands", "0"])
    assert by_flag.exit_code == 2
    by_env = runner.invoke(app, args, env={"STACKCTL_KEEP_DAYS": "-1"})
    assert by_env.exit_code == 2
    said = " ".join(re.sub("[│╭╮╰╯─]", " ", by_env.output).split())
    assert "Invalid value for '--keep-days' (env var: 'STACKCTL_KEEP_DAYS')" in said
    assert not (tmp_path / "s.db").exists()
