"""``stackctl get stacks -o wide`` has an ENGINE column (not the default table): the engine the
stack's desired version targets, ``local`` unless its settings name another, ``-`` for a stack
with no version; the same from the plain rows (``controller.db.plain_reads``) as through the models,
and in ``-o json``. ``describe`` says it too (``Engine:``, and ``engine`` in its JSON)."""

from __future__ import annotations

import json

import pytest
from helpers.stacks import desired_stack
from typer.testing import CliRunner

from controller.cli import app, describe, quick
from controller.db import plain_reads as views
from controller.models import HealthStatus, SyncStatus
from controller.sources.versions import record_version

runner = CliRunner()

COMPOSE = {"services": {"web": {"image": "nginx:alpine"}}}


@pytest.fixture
def stacks(db, db_path, tmp_path):
    """``edge`` targets the engine ``edge``, ``plain`` names none, ``gone`` is deleted."""
    edge = desired_stack(tmp_path / "a", "edge", COMPOSE, target={"engine": "edge"})
    record_version(db, edge, root=tmp_path)
    for name in ("plain", "gone"):
        record_version(db, desired_stack(tmp_path / name, name, COMPOSE), root=tmp_path)
    db.stacks.update(
        "gone",
        current_version=None,
        applied_version=None,
        sync_status=SyncStatus.SYNCED,
        health_status=HealthStatus.MISSING,
    )
    return db_path


def invoke(*args: str, db_path) -> str:
    result = runner.invoke(app, [*args, "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    return result.stdout


def engines(table: str) -> dict[str, str]:
    lines = table.strip().splitlines()
    at = lines[0].index("ENGINE")  # the columns are aligned under their header
    return {line.split()[0]: line[at:].split()[0] for line in lines[1:]}


@pytest.fixture(params=["views", "models"])
def path(request, monkeypatch):
    """Both ways ``get stacks`` reads: the plain rows, and the models when the views step
    aside (as for a file they cannot vouch for)."""
    if request.param == "models":
        monkeypatch.setattr(views, "list_stacks", lambda *args, **kwargs: None)
    return request.param


def test_wide_shows_each_stacks_engine(stacks, path):
    wide = invoke("get", "stacks", "-A", "-o", "wide", db_path=stacks)
    assert wide.splitlines()[0].split()[-5:] == ["AGE", "ENGINE", "UPDATED", "LAST", "ERROR"]
    assert engines(wide) == {"edge": "edge", "gone": "-", "plain": "local"}
    one = invoke("get", "stacks", "edge", "-o", "wide", db_path=stacks)
    assert engines(one) == {"edge": "edge"}


def test_the_answer_before_typer_shows_it_too(stacks, capsys):
    assert quick.answer(["get", "stacks", "-A", "-o", "wide", "--db", str(stacks)])
    assert engines(capsys.readouterr().out) == {"edge": "edge", "gone": "-", "plain": "local"}


def test_the_default_table_has_no_engine_column(stacks, path):
    table = invoke("get", "stacks", db_path=stacks)
    assert table.splitlines()[0].split() == [
        "NAME",
        "DESIRED",
        "APPLIED",
        "SYNC",
        "HEALTH",
        "SUSPENDED",
        "PINNED",
        "AGE",
    ]


def test_the_views_read_the_engine_in_their_one_query(stacks):
    found = {s.name: s.engine for s in views.list_stacks(stacks)}
    assert found == {"edge": "edge", "gone": None, "plain": "local"}


def test_json_and_yaml_give_each_stack_its_engine(stacks, db):
    data = json.loads(invoke("get", "stacks", "-A", "-o", "json", db_path=stacks))
    assert {s["name"]: s["engine"] for s in data} == {
        "edge": "edge",
        "gone": None,
        "plain": "local",
    }
    assert db.stack_versions.engines() == {"edge": "edge", "plain": "local"}


@pytest.fixture
def no_engine(monkeypatch):
    monkeypatch.setattr(describe, "_observe", lambda stack: (None, "no engine in this test"))


def test_describe_says_the_engine(stacks, no_engine):
    assert "Engine:     edge" in invoke("describe", "edge", db_path=stacks)
    assert "Engine:     local" in invoke("describe", "plain", db_path=stacks)
    assert "Engine:     -" in invoke("describe", "gone", db_path=stacks)
    data = json.loads(invoke("describe", "edge", "-o", "json", db_path=stacks))
    assert data["engine"] == "edge"
