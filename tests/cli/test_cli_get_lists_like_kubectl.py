"""``stackctl get``: one stack by name, deleted stacks only with ``--all`` (as ``Deleted``),
``-o wide``, ``-o name`` and ``-w/--watch``, as ``kubectl get`` has them; and
``describe command ID``."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from controller.cli import app, running
from controller.models import HealthStatus, SyncStatus

runner = CliRunner()


@pytest.fixture
def stackctl(db_path):
    def invoke(*args: str):
        return runner.invoke(app, [*args, "--db", str(db_path)])

    return invoke


def delete_blog(db) -> None:
    """What the reconciler leaves after a DELETE: the row, with no version, Synced, Missing."""
    db.stacks.update("blog", current_version=None, applied_version=None,
                     sync_status=SyncStatus.SYNCED, health_status=HealthStatus.MISSING)


def names(output: str) -> list[str]:
    return [line.split()[0] for line in output.strip().splitlines()[1:]]


def test_deleted_stacks_are_left_out_unless_all_and_then_say_deleted(stackctl, db, seeded):
    delete_blog(db)
    listed = stackctl("get", "stacks")
    assert listed.exit_code == 0, listed.output
    assert names(listed.stdout) == ["shop"]
    every = stackctl("get", "stacks", "--all")
    blog = next(line for line in every.stdout.splitlines() if line.startswith("blog"))
    assert blog.split()[1:5] == ["-", "-", "Deleted", "-"]
    assert "Synced" not in blog and "Missing" not in blog
    assert [s["name"] for s in json.loads(stackctl("get", "stacks", "-o", "json").stdout)] == [
        "shop"]


def test_get_one_stack_by_name(stackctl, db, seeded):
    assert names(stackctl("get", "stacks", "shop").stdout) == ["shop"]
    delete_blog(db)
    assert names(stackctl("get", "stacks", "blog").stdout) == ["blog"]  # named: shown
    ghost = stackctl("get", "stacks", "ghost")
    assert ghost.exit_code == 1 and ghost.stderr.strip() == "error: no stack named 'ghost'"


def test_output_name_and_wide(stackctl, seeded):
    assert stackctl("get", "stacks", "-o", "name").stdout.splitlines() == [
        "stack/blog", "stack/shop"]
    assert stackctl("get", "versions", "shop", "-o", "name").stdout.splitlines() == [
        "version/v1", "version/v2"]
    ids = stackctl("get", "commands", "-o", "name").stdout.splitlines()
    assert ids and all(line.startswith("command/") for line in ids)
    wide = stackctl("get", "stacks", "-o", "wide").stdout.splitlines()[0].split()
    assert wide[-3:] == ["UPDATED", "LAST", "ERROR"]
    header = stackctl("get", "commands", "-o", "wide").stdout.splitlines()[0]
    assert header.split()[-5:] == ["FAILURES", "CREATED", "NOT", "BEFORE", "WORKER"]


def test_watch_prints_the_list_then_each_changed_row_until_interrupted(
    stackctl, db, seeded, monkeypatch
):
    def steps():
        yield lambda: db.stacks.update("shop", suspended=True)
        yield lambda: None  # nothing changed: nothing printed
        while True:
            yield lambda: (_ for _ in ()).throw(KeyboardInterrupt)

    step = steps()
    monkeypatch.setattr(running, "pause", lambda seconds: next(step)())
    result = stackctl("get", "stacks", "--watch")
    assert result.exit_code == 0, result.output
    header, blog, shop, shop_again = result.stdout.strip().splitlines()
    assert header.split()[0] == "NAME" and blog.startswith("blog") and shop.startswith("shop")
    assert shop.split()[5] == "no" and shop_again.split()[5] == "yes"


def test_describe_command_shows_its_fields_and_log_lines(stackctl, seeded):
    cid = seeded.failed.command_id
    result = stackctl("describe", "command", str(cid))
    assert result.exit_code == 0, result.output
    assert f"Command:    {cid}" in result.stdout
    assert "Status:     FAILED" in result.stdout
    log = result.stdout.split("Log:")[1]
    assert "APPLY_STACK_VERSION started" in log and "port 8080 is already allocated" in log
    data = json.loads(stackctl("describe", "command", str(cid), "-o", "json").stdout)
    assert data["command"]["command_id"] == cid and len(data["logs"]) == 2
    missing = stackctl("describe", "command", "999")
    assert missing.exit_code == 1 and missing.stderr.strip() == "error: no command 999"
