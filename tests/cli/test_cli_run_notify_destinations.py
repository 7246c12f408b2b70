"""``stackctl run --notify``: destinations from flags or STACKCTL_NOTIFY (separated by spaces),
each checked at start: a URL nobody can send to is a usage error naming it, and no database is
made."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from controller.cli import app
from controller.cli.run import _destinations
from controller.config import load_settings
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
