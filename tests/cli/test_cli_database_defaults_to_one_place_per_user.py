"""Without ``--db`` or ``STACKCTL_DB`` every command uses one database per user, wherever it is
run from: ``$XDG_STATE_HOME/stackctl/stackctl.db`` (``~/.local/state/...`` when unset), or
``/var/lib/stackctl/stackctl.db`` for root; nothing is created under the current directory.
``stackctl run`` without a watched directory says so (exit 2) instead of watching ``./manifests``.

Root's default is only read here (never written): the euid is faked in-process to test a user's.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from controller.cli import app
from controller.cli.run import _watched
from controller.config.settings import load_settings

runner = CliRunner()

HELLO = "services:\n  web:\n    image: stackctl-test/busybox:1\n"


@pytest.fixture
def user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str | None]:
    """A non-root user whose home and state folder are under tmp_path."""
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    return {"HOME": str(tmp_path / "home"), "XDG_STATE_HOME": None, "STACKCTL_DB": None}


def test_apply_and_get_from_two_directories_share_one_history(tmp_path, monkeypatch, user):
    here, there = tmp_path / "here", tmp_path / "there"
    for folder in (here, there):
        folder.mkdir()
    (here / "hello.yaml").write_text(HELLO)
    monkeypatch.chdir(here)
    applied = runner.invoke(app, ["apply", "hello.yaml", "--no-wait"], env=user)
    assert applied.exit_code == 0, applied.output
    monkeypatch.chdir(there)
    listed = runner.invoke(app, ["get", "stacks", "-o", "json"], env=user)
    assert listed.exit_code == 0, listed.output
    assert [s["stack_id"] for s in json.loads(listed.stdout)] == ["hello"]
    state = tmp_path / "home" / ".local" / "state" / "stackctl"
    assert (state / "stackctl.db").is_file()
    assert state.stat().st_mode & 0o777 == 0o700
    assert not (here / "storage").exists() and not (there / "storage").exists()


def test_xdg_state_home_moves_it(tmp_path, monkeypatch, user):
    (tmp_path / "hello.yaml").write_text(HELLO)
    env = {**user, "XDG_STATE_HOME": str(tmp_path / "xdg")}
    result = runner.invoke(app, ["apply", str(tmp_path / "hello.yaml"), "--no-wait"], env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "xdg" / "stackctl" / "stackctl.db").is_file()


def test_a_missing_default_database_is_named(tmp_path, user):
    result = runner.invoke(app, ["get", "stacks"], env=user)
    assert result.exit_code == 1
    expected = tmp_path / "home" / ".local" / "state" / "stackctl" / "stackctl.db"
    assert result.stderr.strip().startswith(f"error: no database at {expected} ")


def test_db_and_stackctl_db_still_win(tmp_path, monkeypatch, user):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hello.yaml").write_text(HELLO)
    env = {**user, "STACKCTL_DB": str(tmp_path / "env.db")}
    assert runner.invoke(app, ["apply", "hello.yaml", "--no-wait"], env=env).exit_code == 0
    assert (tmp_path / "env.db").is_file()
    flag = ["apply", "hello.yaml", "--no-wait", "--db", str(tmp_path / "flag.db")]
    assert runner.invoke(app, flag, env=env).exit_code == 0
    assert (tmp_path / "flag.db").is_file()
    assert not (tmp_path / "home").exists()


def test_the_real_process_names_its_default(tmp_path: Path):
    """As whoever runs the tests: a user's default follows HOME/XDG_STATE_HOME; root's is
    /var/lib/stackctl (only looked at, never created)."""
    if os.geteuid() == 0:
        expected = Path("/var/lib/stackctl/stackctl.db")
    else:
        expected = tmp_path / "state" / "stackctl" / "stackctl.db"
    env = {**os.environ, "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state")}
    env.pop("STACKCTL_DB", None)
    if expected.exists():  # root's, left by `make run` on this machine: read its name, not it
        shown = subprocess.run(
            [sys.executable, "-m", "controller", "get", "stacks", "--help"],
            capture_output=True, text=True, cwd=tmp_path, env={**env, "COLUMNS": "200"},
        )  # fmt: skip
        assert str(expected) in shown.stdout
        return
    result = subprocess.run(
        [sys.executable, "-m", "controller", "get", "stacks"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
    )
    assert result.returncode == 1
    assert f"error: no database at {expected} " in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_run_without_a_watched_directory_says_so(tmp_path, monkeypatch, user):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "manifests").mkdir()  # even beside one: it is never guessed
    env = {**user, "STACKCTL_MANIFESTS": None}
    result = runner.invoke(app, ["run", "--no-api", "--db", str(tmp_path / "s.db")], env=env)
    assert result.exit_code == 2
    said = " ".join(re.sub("[│╭╮╰╯─]", " ", result.output).split())  # typer's box, unwrapped
    assert "no watched directory given: pass --manifests DIR (or set STACKCTL_MANIFESTS)" in said
    assert not (tmp_path / "s.db").exists()


def test_following_only_a_repository_watches_a_folder_beside_the_database(tmp_path):
    settings = load_settings({"db": tmp_path / "state" / "s.db", "git_url": "file:///x"})
    folder = _watched(settings)
    assert folder == tmp_path / "state" / "manifests" and folder.is_dir()
    assert (tmp_path / "state").stat().st_mode & 0o777 == 0o700
