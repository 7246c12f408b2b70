"""Through the API (``--server``), ``sync``, ``suspend``, ``resume``, ``rollback`` and ``cancel``
change the controller's database as the local commands would, print what they print, and each
change is in the audit log under the caller's identity (here the admin token) with its command;
``--wait`` follows a command through the API to its end or ``--timeout``."""

from __future__ import annotations

import json
import threading
import time

from helpers.remote import ADMIN_TOKEN

from controller.db import Database
from controller.models import CommandStatus, CommandType, LogLevel


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
        ("admin token", "cli", action, "ok") for action in ("sync", "suspend", "resume", "rollback")
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


def test_cancel_of_a_running_command_waits_for_its_worker(seeded, serve, cli, db_path):
    """A RUNNING command is asked to stop; ``--wait`` follows it until its worker (here the
    test, as the worker does at its next step) ends it CANCELLED."""
    env = {"STACKCTL_SERVER": serve(), "STACKCTL_TOKEN": ADMIN_TOKEN}
    with Database(db_path=db_path) as db:
        running = db.commands.claim(worker_id="w1")
        assert running is not None and running.command_id == seeded.pending.command_id
        db.command_logs.add(running.command_id, LogLevel.INFO, "pulling images")
        stop = threading.Event()

        def worker() -> None:  # ends the command once the cancel is asked
            while not stop.is_set():
                if db.commands.require(running.command_id).cancel_requested:
                    db.command_logs.add(running.command_id, LogLevel.INFO, "stopping here")
                    db.commands.cancel_running(running.command_id, worker_id="w1")
                    return
                time.sleep(0.05)

        thread = threading.Thread(target=worker)
        thread.start()
        try:
            found = cli.run("cancel", str(running.command_id), "--wait", env=env)
        finally:
            stop.set()
            thread.join()
    assert found.returncode == 0, found.stderr
    lines = found.stdout.splitlines()
    assert lines[0] == (
        f"blog: command {running.command_id} is RUNNING; asked to stop at its next step"
    )
    assert "[blog] pulling images" in lines and "[blog] stopping here" in lines
    assert lines[-1].startswith(f"blog: command {running.command_id} CANCELLED")
