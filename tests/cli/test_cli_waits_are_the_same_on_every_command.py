"""``apply``, ``sync``, ``rollback``, ``resume``, ``delete`` (and ``suspend``, ``cancel``, ``run``)
take the same ``--wait/--no-wait`` and one ``--timeout`` with one default; ``--wait`` shows a
live progress line on a terminal only: piped, the log lines are all there is."""

from __future__ import annotations

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from controller.cli import app, running

runner = CliRunner()

WAITING = ["apply", "sync", "rollback", "resume", "delete", "suspend", "cancel"]


def option(command: str, name: str):
    [param] = [p for p in get_command(app).commands[command].params if p.name == name]
    return param


@pytest.mark.parametrize("command", WAITING)
def test_wait_and_no_wait(command):
    wait = option(command, "wait")
    assert (wait.opts, wait.secondary_opts) == (["--wait"], ["--no-wait"])


@pytest.mark.parametrize("command", [*WAITING, "run"])
def test_one_timeout_with_one_default(command):
    timeout = option(command, "timeout")
    assert timeout.opts == ["--timeout"]
    assert timeout.default == running.TIMEOUT_SECONDS == 120


def test_what_waits_by_default():
    """apply and delete converge now; the steering commands only queue unless asked."""
    defaults = {command: option(command, "wait").default for command in WAITING}
    assert defaults == {"apply": True, "delete": True, "sync": False, "rollback": False,
                        "resume": False, "suspend": False, "cancel": False}


def test_delete_no_wait_only_queues(db_path, db, seeded):
    result = runner.invoke(app, ["delete", "shop", "--no-wait", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    [command] = [c for c in db.commands.list(stack_id="shop", limit=50).items
                 if c.type == "DELETE_STACK"]
    assert command.status == "PENDING"
    assert result.stdout == f"shop: queued command {command.command_id} (DELETE_STACK)\n"


WAITING_LINE = "[shop] waiting for shop to be healthy: web: shop-web-1 starting (10s of 120s)"


def test_piped_the_lines_are_printed_as_they_are():
    lines: list[str] = []
    with running.progress(lines.append, title="shop: command 1", terminal=False) as say:
        say(WAITING_LINE)
    assert say == lines.append
    assert lines == [WAITING_LINE]


def test_on_a_terminal_the_lines_are_printed_and_the_live_line_follows_them(capsys):
    lines: list[str] = []
    with running.progress(lines.append, title="shop: command 1", terminal=True) as say:
        say("[shop] create web-1: new service (0.10s)")
        say(WAITING_LINE)
    assert lines == ["[shop] create web-1: new service (0.10s)", WAITING_LINE]
    assert running._last_word(lines[1]).startswith("waiting for shop to be healthy: web:")
    assert "shop: command 1" not in capsys.readouterr().out  # the live line is on stderr only
