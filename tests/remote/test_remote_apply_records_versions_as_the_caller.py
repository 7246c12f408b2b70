"""``stackctl --server URL apply PATH`` sends the folder; the controller loads it with its own
loader, records each changed stack's version as the caller (``stackctl apply by ...``, the
same identity as its audit entry) and queues its APPLY; ``history`` shows who. The files of a
recorded version are kept where its relative host paths point. Invalid manifests record
nothing and are printed with their file, line, key and problem (exit 1); a stack one of the
controller's own sources declares is refused (409), and so is an undeclared engine (422)."""

from __future__ import annotations

import stat

from helpers.remote import ADMIN_TOKEN, stack_folder

from controller.db import Database
from controller.models import CommandType
from controller.sources.versions import version_base
from controller.web.api.controller_side import ControllerSide

SERVICE = {
    "image": "stackctl-test/busybox:1",
    "command": ["sleep", "3600"],
    "volumes": ["./data:/data"],
    "env_file": ["web.env"],
}


def folder_of(tmp_path, name="web"):
    folder = stack_folder(tmp_path / "manifests", name, SERVICE)
    (folder / "data").mkdir()
    (folder / "data" / "index.html").write_text("hello\n")
    (folder / "web.env").write_text("GREETING=hello\n")
    (folder / "entry.sh").write_text("#!/bin/sh\n")
    (folder / "entry.sh").chmod(0o755)
    return folder


def test_apply_records_as_the_caller_and_keeps_the_files(serve, cli, db_path, tmp_path):
    env = {"STACKCTL_SERVER": serve(), "STACKCTL_TOKEN": ADMIN_TOKEN}
    folder = folder_of(tmp_path)
    applied = cli.run("apply", str(folder), env=env)
    assert applied.returncode == 0, applied.stderr
    recorded, queued = applied.stdout.splitlines()
    assert recorded.startswith("web: recorded v1 (digest ")
    assert queued.startswith("queued command ") and queued.endswith("(APPLY_STACK_VERSION web)")
    again = cli.run("apply", str(folder), env=env)
    assert again.stdout == "web: unchanged (v1)\n"
    history = cli.run("history", "web", env=env)
    assert "stackctl apply by admin token" in history.stdout
    with Database(db_path=db_path) as db:
        version = db.stack_versions.require("web", "v1")
        [command] = db.commands.list(stack_id="web").items
        [entry] = db.audit.list(stack_id="web").items
    assert version.metadata.created_by == "stackctl apply by admin token"
    assert command.type is CommandType.APPLY_STACK_VERSION and command.payload["version"] == "v1"
    assert (entry.who, entry.action, entry.version, entry.command_id) == (
        "admin token",
        "apply",
        "v1",
        command.command_id,
    )
    kept = version_base(version, tmp_path / "nowhere")
    assert kept.parent == db_path.parent / "uploads"
    assert (kept / "data" / "index.html").read_text() == "hello\n"
    assert stat.S_IMODE((kept / "entry.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE((kept / "web.env").stat().st_mode) == 0o644
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    assert [p.name for p in kept.parent.iterdir()] == [kept.name]  # no request's copy left


def test_a_changed_file_records_a_new_version_in_its_own_folder(serve, cli, db_path, tmp_path):
    env = {"STACKCTL_SERVER": serve(), "STACKCTL_TOKEN": ADMIN_TOKEN}
    folder = folder_of(tmp_path)
    assert cli.run("apply", str(folder), env=env).returncode == 0
    (folder / "web.env").write_text("GREETING=bonjour\n")
    changed = cli.run("apply", str(folder), env=env)
    assert changed.stdout.startswith("web: recorded v2")
    with Database(db_path=db_path) as db:
        first, second = (db.stack_versions.require("web", v) for v in ("v1", "v2"))
    # v1 keeps its files (a rollback to it still finds them); v2 has its own.
    assert version_base(first, tmp_path) != version_base(second, tmp_path)
    assert (version_base(first, tmp_path) / "web.env").read_text() == "GREETING=hello\n"


def test_invalid_manifests_record_nothing_and_say_where(serve, cli, db_path, tmp_path):
    env = {"STACKCTL_SERVER": serve(), "STACKCTL_TOKEN": ADMIN_TOKEN}
    folder = stack_folder(tmp_path / "bad", "web", {"image": "busybox", "ports": ["abc"]})
    stack_folder(folder, "blog", {"image": "busybox"})  # valid, but in the same apply
    found = cli.run("apply", str(folder), env=env)
    assert found.returncode == 1
    assert found.stdout == ""
    assert found.stderr.splitlines() == [
        "error: 1 error in the manifests: nothing was recorded",
        "  web.yaml:11: spec.compose.services.web.ports[0]: invalid container port 'abc'",
    ]
    with Database(db_path=db_path) as db:
        assert db.stacks.list() == []
    assert not any((db_path.parent / "uploads").iterdir())


def test_a_stack_the_controllers_folder_declares_is_refused(db_path, db, serve, cli, tmp_path):
    side = ControllerSide(
        uploads=tmp_path / "uploads",
        engines=frozenset({"local"}),
        claimed=lambda: {"web": "the watched directory"},
    )
    env = {"STACKCTL_SERVER": serve(controller_side=side), "STACKCTL_TOKEN": ADMIN_TOKEN}
    found = cli.run("apply", str(folder_of(tmp_path)), env=env)
    assert found.returncode == 1
    assert found.stderr == (
        "error: stack 'web' is declared by the watched directory of the controller: change it"
        " there (its next pass would undo an apply)\n"
    )
    elsewhere = stack_folder(
        tmp_path / "far", "far", {"image": "busybox"}, target={"engine": "far"}
    )
    undeclared = cli.run("apply", str(elsewhere), env=env)
    assert undeclared.returncode == 1
    assert "far.yaml: spec.target.engine: engine 'far' is not declared (declared: local)" in (
        undeclared.stderr
    )
    assert db.stacks.list() == []


def test_apply_of_one_file_loads_that_file_only(serve, cli, db_path, tmp_path):
    env = {"STACKCTL_SERVER": serve(), "STACKCTL_TOKEN": ADMIN_TOKEN}
    folder = stack_folder(tmp_path / "two", "one", {"image": "busybox"})
    stack_folder(folder, "other", {"image": "busybox"})
    found = cli.run("apply", str(folder / "one.yaml"), env=env)
    assert found.returncode == 0, found.stderr
    assert found.stdout.startswith("one: recorded v1")
    with Database(db_path=db_path) as db:
        assert [s.name for s in db.stacks.list()] == ["one"]
