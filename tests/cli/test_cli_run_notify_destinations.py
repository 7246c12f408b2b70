"""``stackctl run --notify``: destinations from flags or STACKCTL_NOTIFY (separated by spaces),
each checked at start: a URL nobody can send to is a usage error naming it, and no database is
made."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from controller.cli import app
from controller.cli.run import _destinations
from controller.config.settings import load_settings
from controller.desired.delivery import NotifyTarget

runner = CliRunner()


def test_destinations_from_the_environment_and_their_filters():
    environ = {
        "HOME": "/h",
        "STACKCTL_NOTIFY": "json://127.0.0.1:9/a  apply.failed,rollback=ntfy://127.0.0.1/b",
    }
    assert _destinations(load_settings({}, environ=environ)) == (
        NotifyTarget(url="json://127.0.0.1:9/a"),
        NotifyTarget(url="ntfy://127.0.0.1/b", events=("apply.failed", "rollback")),
    )
    flags = {"notify": "jsons://u:p@127.0.0.1/x"}
    assert _destinations(load_settings(flags, environ=environ)) == (
        NotifyTarget(url="jsons://u:p@127.0.0.1/x"),
    )


def said(output: str) -> str:
    return " ".join(re.sub("[│╭╮╰╯─]", " ", output).split())


def test_a_destination_that_cannot_be_sent_to_is_a_usage_error(tmp_path: Path):
    args = ["run", "--no-api", "--db", str(tmp_path / "s.db"), "--manifests", str(tmp_path)]
    unknown = runner.invoke(app, [*args, "--notify", "nosuchscheme://127.0.0.1/x"])
    assert unknown.exit_code == 2
    assert "nosuchscheme://127.0.0.1: not a URL Apprise can send to" in said(unknown.output)
    unsigned = runner.invoke(app, [*args, "--notify", "webhook+https://127.0.0.1/hook"])
    assert unsigned.exit_code == 2
    assert "needs ?secret_file=FILE" in said(unsigned.output)
    bad_event = runner.invoke(app, args, env={"STACKCTL_NOTIFY": "deploys=json://127.0.0.1/x"})
    assert bad_event.exit_code == 2
    assert "unknown event 'deploys'" in said(bad_event.output)
    assert not (tmp_path / "s.db").exists()


def test_git_url_commits_get_statuses_from_flags(tmp_path: Path):
    import pytest
    import typer

    from controller.cli.run import _repository

    token = tmp_path / "token"
    token.write_text("t")
    environ = {"HOME": "/h", "STACKCTL_GIT_URL": "https://git.example.com/ops/infra.git"}
    flags = {"git_commit_status": "gitea", "git_commit_status_token_file": token}
    spec = _repository(load_settings(flags, environ=environ))
    assert spec is not None and spec.commit_status is not None
    assert (spec.commit_status.provider, spec.commit_status.token_file) == ("gitea", token)
    assert _repository(load_settings({}, environ=environ)).commit_status is None
    with pytest.raises(typer.BadParameter, match="give both"):
        _repository(load_settings({"git_commit_status": "github"}, environ=environ))
    with pytest.raises(typer.BadParameter):
        _repository(load_settings({**flags, "git_commit_status": "svn"}, environ=environ))
