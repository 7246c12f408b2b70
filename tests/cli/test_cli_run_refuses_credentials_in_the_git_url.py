"""``stackctl run --git-url https://user:pw@...`` would show the password to every user of the
machine in ``ps`` for as long as the controller runs (issue 24, item 13): it is refused, with
the way to do it instead (``--git-token-file``), and the password is not echoed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from controller.cli.run import _repository
from controller.config.settings import load_settings


@pytest.mark.parametrize(
    ("url", "extra"),
    [
        ("https://alice:hunter2-pw@git.example.com/ops/infra.git", []),
        ("https://ghp_hunter2-pw@git.example.com/ops/infra.git", []),  # a token as the user
        ("http://alice:hunter2-pw@127.0.0.1:1/infra.git", ["--git-token-file", "/dev/null"]),
    ],
)
def test_credentials_in_the_git_url_are_refused(tmp_path: Path, url: str, extra: list[str]):
    (tmp_path / "manifests").mkdir()
    run = subprocess.run(
        [sys.executable, "-m", "controller", "run", "--manifests", str(tmp_path / "manifests"),
         "--db", str(tmp_path / "db.sqlite"), "--no-api", "--git-url", url, *extra],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "--git-token-file" in run.stderr and "ps" in run.stderr
    assert "hunter2-pw" not in run.stderr + run.stdout
    assert not (tmp_path / "db.sqlite").exists()  # refused before anything started


def test_a_user_name_with_a_token_file_is_fine(tmp_path: Path):
    token = tmp_path / "token"
    token.write_text("glpat-x")
    settings = load_settings(
        {"db": tmp_path / "db", "git_url": "https://oauth2@gitlab.example.com/ops/infra.git",
         "git_token_file": token},
        environ={},
    )  # fmt: skip
    spec = _repository(settings)
    assert spec is not None and spec.token_file == token
