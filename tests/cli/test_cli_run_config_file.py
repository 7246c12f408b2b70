"""``stackctl run --config FILE`` (issue 25, item 3): a YAML file of settings, below the flags
and the STACKCTL_* variables and above the defaults; an unknown key or a bad value is an error
naming the file and the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from controller.cli import app
from controller.config.settings import load_settings

runner = CliRunner()
HOME = {"HOME": "/home/ann"}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "stackctl.yaml"
    path.write_text("workers: 3\nresync: 30\nlog_format: json\nnotify: json://a json://b\n")
    return path


def test_the_file_beats_the_default(config):
    settings = load_settings({}, environ=HOME, config_file=config)
    assert (settings.workers, settings.resync, settings.log_format) == (3, 30.0, "json")
    assert settings.notify == "json://a json://b"
    assert settings.max_failures == 5  # not in the file: the default


def test_the_environment_beats_the_file(config):
    environ = {**HOME, "STACKCTL_WORKERS": "4"}
    assert load_settings({}, environ=environ, config_file=config).workers == 4


def test_a_flag_beats_the_environment_and_the_file(config):
    environ = {**HOME, "STACKCTL_WORKERS": "4"}
    assert load_settings({"workers": 5}, environ=environ, config_file=config).workers == 5
    assert load_settings({"workers": 5}, environ=HOME, config_file=config).workers == 5


def test_an_unknown_key_names_the_file_and_the_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("workers: 2\nworker_count: 3\n")
    said = rf"{re.escape(str(path))}: unknown setting 'worker_count'"
    with pytest.raises(ValueError, match=said):
        load_settings({}, environ=HOME, config_file=path)


def test_a_bad_value_names_the_file_and_the_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("workers: 0\n")
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))}: workers=0: .*greater than"):
        load_settings({}, environ=HOME, config_file=path)


def test_a_file_that_is_not_a_mapping_is_an_error(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- workers\n")
    with pytest.raises(ValueError, match=re.escape(str(path))):
        load_settings({}, environ=HOME, config_file=path)


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no such settings file"):
        load_settings({}, environ=HOME, config_file=tmp_path / "nowhere.yaml")


def _said(output: str) -> str:
    return " ".join(re.sub("[│╭╮╰╯─]", " ", output).split())


@pytest.mark.parametrize("how", ["flag", "env"])
def test_run_reads_the_file_and_says_what_is_wrong_in_it(tmp_path, how):
    path = tmp_path / "run.yaml"
    path.write_text("colour: blue\n")
    args = ["run", "--no-api", "--db", str(tmp_path / "s.db"), "--manifests", str(tmp_path)]
    if how == "flag":
        extra, env = ["--config", str(path)], {}
    else:
        extra, env = [], {"STACKCTL_CONFIG": str(path)}
    done = runner.invoke(app, [*args, *extra], env=env)
    assert done.exit_code == 2, done.output
    assert "unknown setting 'colour'" in _said(done.output)
    assert not (tmp_path / "s.db").exists()


def test_run_gives_the_files_values_to_the_daemon(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("api: nowhere\n")  # reaches DaemonOptions, which refuses it
    args = ["run", "--db", str(tmp_path / "s.db"), "--manifests", str(tmp_path),
            "--config", str(path)]
    done = runner.invoke(app, args)
    assert done.exit_code == 2, done.output
    assert "--api wants HOST:PORT" in _said(done.output)
    assert not (tmp_path / "s.db").exists()
