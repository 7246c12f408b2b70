"""``stackctl get``, ``describe``, ``history`` and ``command-logs``: tables for people, JSON/YAML
for scripts, and one clear line with exit 1 for what does not exist."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from controller.cli import app, running
from controller.models import LogLevel

runner = CliRunner()


@pytest.fixture
def stackctl(db_path):
    def invoke(*args: str):
        return runner.invoke(app, [*args, "--db", str(db_path)])

    return invoke


@pytest.fixture
def no_engine(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")


def rows(output: str) -> list[list[str]]:
    return [line.split() for line in output.strip().splitlines()]


def test_get_stacks_table(stackctl, seeded):
    result = stackctl("get", "stacks")
    assert result.exit_code == 0, result.output
    header, blog, shop = rows(result.stdout)
    assert header == ["NAME", "DESIRED", "APPLIED", "SYNC", "HEALTH", "SUSPENDED", "PINNED", "AGE"]
    assert blog[:7] == ["blog", "v1", "-", "Unknown", "Unknown", "no", "no"]
    assert shop[:7] == ["shop", "v2", "v2", "Synced", "Healthy", "no", "no"]


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_get_stacks_structured(stackctl, seeded, fmt):
    result = stackctl("get", "stacks", "-o", fmt)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout) if fmt == "json" else yaml.safe_load(result.stdout)
    assert [(s["name"], s["current_version"], s["pinned"]) for s in data] == [
        ("blog", "v1", False), ("shop", "v2", False)]


def test_get_versions_table_and_json(stackctl, seeded):
    result = stackctl("get", "versions", "shop")
    assert result.exit_code == 0, result.output
    assert [r[:2] for r in rows(result.stdout)] == [["VERSION", "STATUS"], ["v1", "APPLIED"],
                                                     ["v2", "APPLIED"]]
    data = json.loads(stackctl("get", "versions", "shop", "-o", "json").stdout)
    assert [v["version"] for v in data] == ["v1", "v2"]
    assert data[0]["compose"]["services"]["web"]["image"] == "stackctl-test/busybox:1"


def test_get_commands_table_filters_and_json(stackctl, seeded):
    result = stackctl("get", "commands")
    assert result.exit_code == 0, result.output
    table = rows(result.stdout)
    assert table[0] == ["ID", "STACK", "TYPE", "STATUS", "ATTEMPTS", "AGE", "DURATION", "ERROR"]
    assert [r[0] for r in table[1:]] == [str(c.command_id) for c in
                                         (seeded.pending, seeded.failed, seeded.done)]
    assert "port 8080 is already allocated" in result.stdout
    failed = stackctl("get", "commands", "--stack", "shop", "--status", "FAILED", "-o", "json")
    assert [c["command_id"] for c in json.loads(failed.stdout)] == [seeded.failed.command_id]
    typed = stackctl("get", "commands", "--type", "RECONCILE", "-o", "json")
    assert [c["type"] for c in json.loads(typed.stdout)] == ["RECONCILE"]


def test_get_commands_pages_with_the_cursor_printed_on_stderr(stackctl, seeded):
    first = stackctl("get", "commands", "--limit", "2", "-o", "json")
    assert len(json.loads(first.stdout)) == 2
    cursor = first.stderr.strip().removeprefix("more: --cursor ")
    rest = stackctl("get", "commands", "--limit", "2", "--cursor", cursor, "-o", "json")
    assert [c["command_id"] for c in json.loads(rest.stdout)] == [seeded.done.command_id]
    assert rest.stderr == ""


def test_history_shows_lineage_and_which_is_applied(stackctl, db, seeded):
    from controller.commands import operations

    operations.rollback(db, "shop")
    result = stackctl("history", "shop")
    assert result.exit_code == 0, result.output
    header, v1, v2, v3 = rows(result.stdout)
    assert header[:5] == ["VERSION", "PARENT", "DIGEST", "STATUS", "MARK"]
    assert v2[:5] == ["v2", "v1", v2[2], "APPLIED", "applied"]
    assert v3[:5] == ["v3", "v2", v1[2], "PENDING", "current"]
    assert "rollback to v1" in result.stdout and "stackctl rollback" in result.stdout
    data = json.loads(stackctl("history", "shop", "-o", "json").stdout)
    assert [(v["version"], v["applied"], v["current"]) for v in data] == [
        ("v1", False, False), ("v2", True, False), ("v3", False, True)]
    assert data[2]["metadata"]["comment"] == "rollback to v1"


def test_describe_prints_the_database_part_when_the_engine_is_unreachable(
    stackctl, seeded, no_engine
):
    result = stackctl("describe", "shop")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Name:       shop" in out and "Pinned:     no" in out
    assert "Desired:    v2 (latest recorded: v2)" in out
    assert "Services: engine unreachable:" in out
    assert rows(out.split("Services:")[1].split("Last commands:")[0])[2][:3] == [
        "web", "-", "unknown"]
    assert "Synced            True" in out
    assert "port 8080 is already allocated" in out  # the failed command
    assert "ManifestInvalid" in out


def test_describe_json(stackctl, seeded, no_engine):
    result = stackctl("describe", "shop", "-o", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["stack"]["name"] == "shop" and data["latest_version"] == "v2"
    assert {c["type"] for c in data["conditions"]} >= {"Synced", "Healthy", "Pinned"}
    assert data["services"] == [
        {"service": "web", "container": None, "state": "unknown", "health": None,
         "version": None}]
    assert data["engine_error"]
    assert [c["command_id"] for c in data["commands"]] == [seeded.failed.command_id,
                                                          seeded.done.command_id]
    assert [e["reason"] for e in data["events"]] == ["ManifestInvalid"]


def test_command_logs_of_a_command_and_of_a_stack(stackctl, seeded):
    result = stackctl("command-logs", str(seeded.failed.command_id))
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].endswith("INFO    APPLY_STACK_VERSION started")
    assert lines[1].endswith("ERROR   port 8080 is already allocated")
    stack = stackctl("command-logs", "--stack", "shop")
    assert [line.split(" ", 2)[1] for line in stack.stdout.strip().splitlines()] == [
        f"#{seeded.done.command_id}"] * 2 + [f"#{seeded.failed.command_id}"] * 2
    last = stackctl("command-logs", "--stack", "shop", "--last", "1", "-o", "json")
    parsed = [json.loads(line) for line in last.stdout.strip().splitlines()]
    assert [p["command_id"] for p in parsed] == [seeded.failed.command_id] * 2
    assert parsed[1]["level"] == "ERROR" and parsed[1]["stack_id"] == "shop"


def test_command_logs_follow_a_command_until_it_ends(stackctl, db, seeded, monkeypatch):
    cid = seeded.pending.command_id
    steps = iter(
        [
            lambda: db.commands.claim(worker_id="w"),
            lambda: db.command_logs.add(cid, LogLevel.INFO, "create blog-web-1"),
            lambda: db.commands.complete(cid),
        ]
    )
    monkeypatch.setattr(running, "pause", lambda seconds: next(steps)())
    result = stackctl("command-logs", str(cid), "--follow")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("INFO    create blog-web-1")


def test_command_logs_follow_a_stack_picks_up_new_commands_until_interrupted(
    stackctl, db, seeded, monkeypatch
):
    from controller.commands import operations

    def step_then_stop():
        yield lambda: db.command_logs.add(
            operations.sync(db, "shop").command_id, LogLevel.INFO, "in sync, nothing to do"
        )
        while True:
            yield lambda: (_ for _ in ()).throw(KeyboardInterrupt)

    steps = step_then_stop()
    monkeypatch.setattr(running, "pause", lambda seconds: next(steps)())
    result = stackctl("command-logs", "--stack", "shop", "--follow")
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()[-1]
    assert "#" in last and last.endswith("in sync, nothing to do")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["get", "versions", "ghost"], "no stack named 'ghost'"),
        (["get", "commands", "--stack", "ghost"], "no stack named 'ghost'"),
        (["get", "commands", "--cursor", "bogus"], "invalid cursor 'bogus'"),
        (["describe", "ghost"], "no stack named 'ghost'"),
        (["history", "ghost"], "no stack named 'ghost'"),
        (["command-logs", "999"], "no command 999"),
        (["command-logs", "--stack", "ghost"], "no stack named 'ghost'"),
    ],
)
def test_unknown_names_are_one_line_and_exit_1(stackctl, seeded, args, message):
    result = stackctl(*args)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {message}"
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [["get", "stacks"], ["get", "commands"], ["describe", "shop"], ["history", "shop"],
     ["command-logs", "1"], ["rollback", "shop"], ["suspend", "shop"], ["resume", "shop"],
     ["sync", "shop"]],
)
def test_a_missing_database_is_one_line_and_exit_1_and_is_not_created(tmp_path, args):
    missing = tmp_path / "nowhere" / "stackctl.db"
    result = runner.invoke(app, [*args, "--db", str(missing)])
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: no database at {missing}")
    assert not missing.parent.exists()


def test_the_old_logs_forms_still_print_command_logs_with_a_note(stackctl, seeded):
    cid = seeded.failed.command_id
    old = stackctl("logs", str(cid))
    assert old.exit_code == 0, old.output
    assert old.stdout == stackctl("command-logs", str(cid)).stdout
    assert f"use `stackctl command-logs {cid}`" in old.stderr
    by_stack = stackctl("logs", "--stack", "shop")
    assert by_stack.exit_code == 0, by_stack.output
    assert by_stack.stdout == stackctl("command-logs", "--stack", "shop").stdout
    assert "use `stackctl command-logs --stack shop`" in by_stack.stderr


def test_command_logs_needs_exactly_one_of_a_command_or_a_stack(stackctl, seeded):
    assert stackctl("command-logs").exit_code == 2
    assert stackctl("command-logs", "1", "--stack", "shop").exit_code == 2
