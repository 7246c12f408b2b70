"""``stackctl rollback|suspend|resume|sync``: they enqueue and print the command id; ``--wait``
follows the command that a running controller executes (simulated here by stepping the
follower's poll), exit 0 when DONE and 1 otherwise."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from controller.cli import app, running
from controller.models import CommandStatus, LogLevel

runner = CliRunner()


@pytest.fixture
def stackctl(db_path):
    def invoke(*args: str):
        return runner.invoke(app, [*args, "--db", str(db_path)])

    return invoke


@pytest.fixture
def controller(db):
    """A live controller lease held by this (alive) process, as `stackctl run` would."""
    db.leases.acquire(holder="test-controller", pid=os.getpid(), hostname=socket.gethostname(),
                      ttl=3600)
    return db


def claim_shop(db):
    """Claim the way the controller does, running anything older (blog's APPLY) first."""
    while True:
        command = db.commands.claim(worker_id="controller-w0")
        assert command is not None
        if command.stack_id == "shop":
            return command
        db.commands.complete(command.command_id)


def run_by_controller(monkeypatch, db, *, error: str | None = None) -> None:
    """Each poll of the follower makes the 'controller' do one more thing with the command."""

    def steps():
        command = claim_shop(db)
        yield
        db.command_logs.add(command.command_id, LogLevel.INFO, f"{command.type} started")
        yield
        if error is None:
            db.commands.complete(command.command_id)
        else:
            db.command_logs.add(command.command_id, LogLevel.ERROR, error)
            db.commands.fail(command.command_id, error=error)
        while True:
            yield

    stepper = steps()
    monkeypatch.setattr(running, "pause", lambda seconds: next(stepper))


def test_rollback_prints_what_it_did_and_the_command(stackctl, db, seeded):
    result = stackctl("rollback", "shop")
    assert result.exit_code == 0, result.output
    command = db.commands.list(stack_id="shop", status="PENDING").items[0]
    assert result.stdout.splitlines() == [
        "shop: rolled back to v1 as v3; pinned until `stackctl resume shop`",
        f"queued command {command.command_id} (APPLY_STACK_VERSION)",
    ]
    assert db.stacks.require("shop").pinned is True


def test_rollback_json_is_the_command_on_stdout(stackctl, seeded):
    result = stackctl("rollback", "shop", "v1", "-o", "json")
    assert result.exit_code == 0, result.output
    command = json.loads(result.stdout)
    assert command["payload"] == {"version": "v3", "rollback_to": "v1"}
    assert "rolled back to v1 as v3" in result.stderr


def test_suspend_resume_and_sync(stackctl, db, seeded):
    suspended = stackctl("suspend", "shop")
    assert suspended.exit_code == 0, suspended.output
    assert suspended.stdout.splitlines()[0] == "shop: suspended"
    assert "(RECONCILE)" in suspended.stdout
    assert db.stacks.require("shop").suspended is True

    synced = stackctl("sync", "shop", "-o", "yaml")
    assert synced.exit_code == 0, synced.output
    assert "already pending; it reconciles the stack" in synced.stderr  # the suspend's RECONCILE

    resumed = stackctl("resume", "shop")
    assert resumed.exit_code == 0, resumed.output
    assert resumed.stdout.splitlines()[0] == "shop: resumed; applying v2"
    assert db.stacks.require("shop").suspended is False


def test_sync_queues_a_reconcile(stackctl, db, seeded):
    result = stackctl("sync", "shop", "-o", "json")
    assert result.exit_code == 0, result.output
    command = json.loads(result.stdout)
    assert (command["type"], command["payload"]) == ("RECONCILE", {"reason": "sync"})
    assert f"queued command {command['command_id']} (RECONCILE)" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rollback", "ghost"], "no stack named 'ghost'"),
        (["rollback", "shop", "v9"], "stack 'shop' has no version v9"),
        (["rollback", "shop", "v2"], "v2 is already the current version of stack 'shop'"),
        (["rollback", "blog"], "stack 'blog' has no version older than v1 that was applied:"
                               " name the version to roll back to"),
        (["suspend", "ghost"], "no stack named 'ghost'"),
        (["resume", "ghost"], "no stack named 'ghost'"),
        (["sync", "ghost"], "no stack named 'ghost'"),
    ],
)
def test_what_cannot_be_done_is_one_line_and_exit_1(stackctl, db, seeded, args, message):
    result = stackctl(*args)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {message}"
    assert result.stdout == ""
    assert db.stacks.require("shop").pinned is False


def test_wait_follows_the_controller_to_done(stackctl, controller, seeded, monkeypatch):
    run_by_controller(monkeypatch, controller)
    result = stackctl("sync", "shop", "--wait")
    assert result.exit_code == 0, result.output
    assert "no controller is running" not in result.output
    lines = result.stdout.splitlines()
    assert lines[-2] == "[shop] RECONCILE started"
    assert lines[-1].startswith("shop: command ") and lines[-1].endswith(" DONE")


def test_wait_exits_1_when_the_command_fails(stackctl, controller, seeded, monkeypatch):
    run_by_controller(monkeypatch, controller, error="image missing")
    result = stackctl("rollback", "shop", "--wait", "-o", "json")
    assert result.exit_code == 1
    assert "[shop] image missing" in result.stderr
    final = json.loads(result.stdout)
    assert (final["status"], final["error"]) == ("FAILED", "image missing")


def test_wait_follows_the_apply_that_superseded_ours(stackctl, controller, seeded, monkeypatch):
    from controller.commands import operations

    def steps():
        operations.resume(controller, "shop")  # a newer APPLY supersedes the rollback's
        yield
        controller.commands.complete(claim_shop(controller).command_id)
        while True:
            yield

    stepper = steps()
    monkeypatch.setattr(running, "pause", lambda seconds: next(stepper))
    result = stackctl("rollback", "shop", "--wait")
    assert result.exit_code == 0, result.output
    assert "was superseded by command" in result.stdout
    assert result.stdout.splitlines()[-1].endswith(" DONE")


def test_wait_gives_up_after_the_timeout_and_says_how_to_follow(stackctl, controller, seeded):
    result = stackctl("sync", "shop", "--wait", "--timeout", "0")
    assert result.exit_code == 1
    command = controller.commands.list(stack_id="shop", status=CommandStatus.PENDING).items[0]
    assert f"stackctl command-logs {command.command_id} --follow" in result.stderr


def test_a_controller_that_died_on_this_host_is_not_running(db):
    assert running.controller_running(db) is False
    db.leases.acquire(holder="alive", pid=os.getpid(), hostname=socket.gethostname(), ttl=60)
    assert running.controller_running(db) is True
    db.leases.release(holder="alive")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    db.leases.acquire(holder="dead", pid=int(gone.stdout), hostname=socket.gethostname(), ttl=60)
    assert running.controller_running(db) is False
    db.leases.release(holder="dead")
    db.leases.acquire(holder="far", pid=1, hostname="another-host", ttl=60)
    assert running.controller_running(db) is True


@pytest.mark.parametrize(("action", "kind"), [("suspend", "RECONCILE"),
                                              ("resume", "APPLY_STACK_VERSION")])
def test_suspend_and_resume_json_is_the_command(stackctl, seeded, action, kind):
    result = stackctl(action, "shop", "-o", "json")
    assert result.exit_code == 0, result.output
    command = json.loads(result.stdout)
    assert (command["stack_id"], command["type"], command["status"]) == ("shop", kind, "PENDING")
    assert f"queued command {command['command_id']}" in result.stderr
