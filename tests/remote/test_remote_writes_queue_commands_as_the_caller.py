"""Through the API (``--server``), ``sync``, ``suspend``, ``resume``, ``rollback`` and ``cancel``
change the controller's database as the local commands would, print what they print, and each
change is in the audit log under the caller's identity (here the admin token) with its command;
``--wait`` follows a command through the API to its end or ``--timeout``."""

from __future__ import annotations

import json

from helpers.remote import ADMIN_TOKEN

from controller.db import Database
from controller.models import CommandStatus, CommandType


def test_each_write_queues_its_command_and_is_audited(seeded, serve, cli, db_path):
    env = {"STACKCTL_SERVER": serve(), "STACKCTL_TOKEN": ADMIN_TOKEN}
    synced = cli.run("sync", "shop", env=env)
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.startswith("shop: queued command ") and "(RECONCILE)" in synced.stdout
    suspended = cli.run("suspend", "shop", env=env)
    assert suspended.stdout.splitlines()[0] == "shop: suspended"
    resumed = cli.run("resume", "shop", env=env)
    assert resumed.stdout.splitlines()[0] == "shop: resumed; applying v2"
    rolled = cli.run("rollback", "shop", "v1", env=env)
    assert rolled.returncode == 0, rolled.stderr
    assert rolled.stdout.splitlines()[0] == (
        "shop: rolled back to v1 as v3; pinned until `stackctl resume shop`"
    )
    with Database(db_path=db_path) as db:
        stack = db.stacks.require("shop")
        assert stack.pinned and stack.current_version == "v3"
        entries = list(reversed(db.audit.list(stack_id="shop").items))
        newest = db.commands.list(stack_id="shop", limit=1).items[0]
    assert [(e.who, e.surface, e.action, e.result) for e in entries] == [
        ("admin token", "api", action, "ok") for action in ("sync", "suspend", "resume", "rollback")
    ]
    assert entries[-1].command_id == newest.command_id and entries[-1].version == "v3"


def test_cancel_of_a_pending_command_cancels_it_at_once(seeded, serve, cli, db_path):
    env = {"STACKCTL_SERVER": serve(), "STACKCTL_TOKEN": ADMIN_TOKEN}
    pending = seeded.pending.command_id
    found = cli.run("cancel", str(pending), "--wait", env=env)
    assert found.returncode == 0, found.stderr
    assert found.stdout == f"blog: command {pending} cancelled\n"  # ended: nothing to follow
    again = cli.run("cancel", str(pending), env=env)
    assert again.returncode == 1 and again.stderr.startswith("error: ")
    with Database(db_path=db_path) as db:
        assert db.commands.require(pending).status is CommandStatus.CANCELLED


def test_wait_gives_up_at_the_timeout_and_json_prints_the_command(seeded, serve, cli):
    env = {"STACKCTL_SERVER": serve(), "STACKCTL_TOKEN": ADMIN_TOKEN}
    # No controller runs the queue here: the command stays PENDING.
    found = cli.run("sync", "blog", "--wait", "--timeout", "1", "-o", "json", env=env)
    assert found.returncode == 1
    command = json.loads(found.stdout)
    assert command["status"] == "PENDING" and command["type"] == CommandType.APPLY_STACK_VERSION
    assert "still PENDING after 1s" in found.stderr
