"""Every change the local command line makes is one audit entry by ``local:<user>`` (surface
``cli``), written with the change: rollback, suspend, resume, sync, move, cancel, apply (one
entry per stack, with its version and command) and delete; a refused one is recorded as
refused. The versions it records name the same identity (``stackctl rollback by local:ann``).
``stackctl audit`` lists them newest first, filtered by stack, who and time."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from helpers.seeding import write_manifest
from typer.testing import CliRunner

from controller.cli import app
from controller.db import Database
from controller.models.audit import AuditEntry, AuditResult, Surface
from controller.models.timestamps import utc_now

runner = CliRunner()


@pytest.fixture
def stackctl(db_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LOGNAME", "ann")  # what getpass.getuser() reads first

    def invoke(*args: str, code: int = 0):
        result = runner.invoke(app, [*args, "--db", str(db_path)])
        assert result.exit_code == code, result.output
        return result

    return invoke


def entries(db_path: Path) -> list[dict]:
    with Database(db_path=db_path) as db:
        return [
            {
                "who": e.who,
                "kind": e.who_kind,
                "surface": e.surface.value,
                "action": e.action,
                "stack": e.stack_id,
                "version": e.version,
                "command": e.command_id,
                "result": e.result.value,
            }
            for e in reversed(db.audit.list(limit=100).items)
        ]


def test_each_steering_command_is_one_entry_by_the_local_user(stackctl, db_path, seeded):
    rolled = json.loads(stackctl("rollback", "shop", "-o", "json").stdout)
    suspended = json.loads(stackctl("suspend", "shop", "-o", "json").stdout)
    resumed = json.loads(stackctl("resume", "shop", "-o", "json").stdout)
    synced = json.loads(stackctl("sync", "shop", "-o", "json").stdout)
    cancelled = json.loads(stackctl("cancel", str(seeded.pending.command_id), "-o", "json").stdout)
    stackctl("delete", "blog", "--no-wait")
    assert synced["command_id"] == resumed["command_id"]
    found = entries(db_path)
    me = {"who": "local:ann", "kind": "local", "surface": "cli", "result": "ok"}
    assert found[:5] == [
        {**me, "action": "rollback", "stack": "shop", "version": "v3",
         "command": rolled["command_id"]},
        {**me, "action": "suspend", "stack": "shop", "version": None,
         "command": suspended["command_id"]},
        {**me, "action": "resume", "stack": "shop", "version": "v3",
         "command": resumed["command_id"]},
        {**me, "action": "sync", "stack": "shop", "version": "v3",
         "command": synced["command_id"]},  # resume's APPLY, still pending: it converges
        {**me, "action": "cancel", "stack": "blog", "version": "v1",
         "command": cancelled["command_id"]},
    ]  # fmt: skip
    assert [(e["action"], e["stack"], e["result"]) for e in found[5:]] == [("delete", "blog", "ok")]
    with Database(db_path=db_path) as db:
        v3 = db.stack_versions.require("shop", "v3")
        assert v3.metadata.created_by == "stackctl rollback by local:ann"
        cancelled_row = db.commands.require(seeded.pending.command_id)
        assert cancelled_row.error == "cancelled by local:ann through stackctl cancel"


def test_a_refused_change_is_recorded_as_refused(stackctl, db_path, seeded):
    said = stackctl("rollback", "nope", code=1)
    assert "no stack" in said.output
    stackctl("move", "shop", code=1)  # it runs where its version targets: nothing to move
    stackctl("delete", "nope", "--no-wait", code=1)
    assert [(e["action"], e["stack"], e["result"]) for e in entries(db_path)] == [
        ("rollback", "nope", "refused"),
        ("move", "shop", "refused"),
        ("delete", "nope", "refused"),
    ]
    with Database(db_path=db_path) as db:
        assert db.audit.list().items[0].detail == "no stack named 'nope'"


def test_apply_records_one_entry_per_stack_with_its_version(stackctl, db_path, tmp_path):
    folder = tmp_path / "m"
    for name in ("web", "api"):
        write_manifest(folder, name, {"app": {"image": "stackctl-test/busybox:1"}})
    stackctl("apply", str(folder), "--no-wait")
    stackctl("apply", str(folder), "--no-wait")  # unchanged: a RECONCILE each, v1 still
    found = entries(db_path)
    assert [(e["action"], e["stack"], e["version"], e["who"]) for e in found] == [
        ("apply", "api", "v1", "local:ann"),
        ("apply", "web", "v1", "local:ann"),
        ("apply", "api", "v1", "local:ann"),
        ("apply", "web", "v1", "local:ann"),
    ]
    with Database(db_path=db_path) as db:
        commands = {c.command_id: c for c in db.commands.list(limit=10).items}
        assert [commands[e["command"]].type for e in found] == [
            "APPLY_STACK_VERSION", "APPLY_STACK_VERSION", "RECONCILE", "RECONCILE",
        ]  # fmt: skip
        assert [commands[e["command"]].stack_id for e in found] == ["api", "web", "api", "web"]
        version = db.stack_versions.require("web", "v1")
        assert version.metadata.created_by == "stackctl apply by local:ann"


def test_audit_lists_newest_first_with_its_filters(stackctl, db_path, seeded, alices_entry):
    stackctl("sync", "shop")
    stackctl("suspend", "blog")
    table = stackctl("audit").stdout.splitlines()
    assert table[0].split() == [
        "WHEN", "WHO", "SURFACE", "ACTION", "STACK", "VERSION", "COMMAND", "RESULT", "DETAIL",
    ]  # fmt: skip
    assert [line.split()[3] for line in table[1:]] == ["suspend", "sync", "token.create"]
    shop = json.loads(stackctl("audit", "--stack", "shop", "-o", "json").stdout)
    assert [(e["action"], e["who"], e["surface"]) for e in shop] == [("sync", "local:ann", "cli")]
    mine = json.loads(stackctl("audit", "--who", "alice", "-o", "json").stdout)
    assert [e["action"] for e in mine] == ["token.create"]
    recent = json.loads(stackctl("audit", "--since", "1h", "-o", "json").stdout)
    assert [e["action"] for e in recent] == ["suspend", "sync"]
    two_days_ago = f"{utc_now() - timedelta(days=2):%Y-%m-%dT%H:%MZ}"
    dated = json.loads(stackctl("audit", "--since", two_days_ago, "-o", "json").stdout)
    assert len(dated) == 3
    one = stackctl("audit", "--limit", "1")
    assert len(one.stdout.splitlines()) == 2 and "--limit 2" in one.stderr
    refused = runner.invoke(app, ["audit", "--since", "soon", "--db", str(db_path)])
    assert refused.exit_code == 2 and "--since" in refused.output


@pytest.fixture
def alices_entry(db_path: Path, db: Database) -> None:
    """An entry of a day ago by someone else (alice's token), before the test's own."""
    db.audit.record(
        AuditEntry(
            who="alice",
            who_kind="user",
            surface=Surface.API,
            action="token.create",
            result=AuditResult.OK,
            at=utc_now() - timedelta(days=1),
        )
    )
