"""A stack suspended in its manifest (``spec.suspend: true``) and one suspended by
``stackctl suspend`` are shown alike everywhere (issue 24, item 1): suspended, sync Suspended,
health Suspended, in ``get stacks`` (the quick table and -o json), ``describe``, the API's stack
reads and filters, the console's table (a badge, not counted out of sync) and the metrics.
Before, the manifest's kind showed ``SUSPENDED no``, no flag in the console, and counted as
out of sync; a stack suspended by hand showed its last observed sync status."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import pytest
from helpers.seeding import SLEEPER, record
from helpers.stacks import desired_stack
from prometheus_client.parser import text_string_to_metric_families
from starlette.exceptions import StarletteDeprecationWarning
from typer.testing import CliRunner

from controller.cli import app
from controller.cli.quick import answer
from controller.commands import operations
from controller.db import Database
from controller.models import HealthStatus, SyncStatus
from controller.sources.versions import record_version

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from controller.web.api import create_app

SUSPENDED = ("declared", "flagged")


@pytest.fixture
def stacks(db: Database, tmp_path: Path) -> Database:
    """``plain``: applied, Synced, Healthy. ``declared``: its manifest says suspend, never
    applied (as the reconciler leaves it: OutOfSync, Suspended). ``flagged``: applied, then
    ``stackctl suspend`` (as its RECONCILE leaves it: Synced, Suspended)."""
    record(db, tmp_path, "plain", "stackctl-test/busybox:1", applied=True)
    compose = {"services": {"web": {"image": "stackctl-test/busybox:1", **SLEEPER}}}
    record_version(db, desired_stack(tmp_path, "declared", compose, suspend=True), root=tmp_path)
    db.stacks.update("declared", sync_status=SyncStatus.OUT_OF_SYNC,
                     health_status=HealthStatus.SUSPENDED)
    record(db, tmp_path, "flagged", "stackctl-test/busybox:1", applied=True)
    operations.suspend(db, "flagged")
    db.stacks.update("flagged", health_status=HealthStatus.SUSPENDED)
    return db


def test_the_stacks_read_says_suspended_and_by_whom(stacks):
    shown = {s.stack_id: s for s in stacks.stacks.list()}
    assert {n: (s.suspended, s.sync_status, s.health_status) for n, s in shown.items()} == {
        "plain": (False, SyncStatus.SYNCED, HealthStatus.HEALTHY),
        "declared": (True, SyncStatus.SUSPENDED, HealthStatus.SUSPENDED),
        "flagged": (True, SyncStatus.SUSPENDED, HealthStatus.SUSPENDED),
    }
    assert shown["declared"].suspended_by == ("manifest",)
    assert shown["flagged"].suspended_by == ("operator",)
    assert stacks.stacks.require("declared").suspended


def test_get_stacks_table_and_json(stacks, db_path, capsys):
    assert answer(["get", "stacks", "--db", str(db_path)])  # the quick path, without typer
    table = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()}
    header = table["NAME"]
    for name in SUSPENDED:
        row = dict(zip(header, table[name], strict=False))
        assert (row["SYNC"], row["HEALTH"], row["SUSPENDED"]) == (
            "Suspended", "Suspended", "yes"), row
    plain = dict(zip(header, table["plain"], strict=False))
    assert (plain["SYNC"], plain["SUSPENDED"]) == ("Synced", "no")
    result = CliRunner().invoke(app, ["get", "stacks", "-o", "json", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    items = {s["name"]: s for s in json.loads(result.stdout)}
    for name in SUSPENDED:
        assert (items[name]["suspended"], items[name]["sync_status"],
                items[name]["health_status"]) == (True, "Suspended", "Suspended")
    assert items["declared"]["suspended_by"] == ["manifest"]


def test_describe_says_suspended_and_how_to_lift_it(stacks, db_path):
    declared = CliRunner().invoke(app, ["describe", "stack", "declared", "--db", str(db_path)])
    assert declared.exit_code == 0, declared.output
    assert re.search(r"^Sync:\s+Suspended$", declared.stdout, re.M), declared.stdout
    assert re.search(r"^Suspended:\s+yes \(spec\.suspend in its manifest\)", declared.stdout,
                     re.M), declared.stdout
    assert "SuspendedByManifest" in declared.stdout
    flagged = CliRunner().invoke(app, ["describe", "stack", "flagged", "--db", str(db_path)])
    assert re.search(r"^Suspended:\s+yes \(stackctl suspend\)", flagged.stdout, re.M)
    assert "SuspendedByOperator" in flagged.stdout


def test_the_api_reads_and_filters_and_the_metrics(stacks, db_path):
    with TestClient(create_app(db_path=db_path)) as client:
        one = client.get("/api/v1/stacks/declared").json()
        assert (one["suspended"], one["sync_status"], one["health_status"]) == (
            True, "Suspended", "Suspended")
        [condition] = [c for c in one["conditions"] if c["type"] == "Suspended"]
        assert (condition["status"], condition["reason"]) == (True, "SuspendedByManifest")
        names = {s["name"] for s in client.get("/api/v1/stacks?suspended=true").json()["items"]}
        assert names == set(SUSPENDED)
        synced = client.get("/api/v1/stacks?sync=Suspended").json()["items"]
        assert {s["name"] for s in synced} == set(SUSPENDED)
        found = {}
        for family in text_string_to_metric_families(client.get("/metrics").text):
            for sample in family.samples:
                found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    assert found[("stackctl_stacks_suspended", ())] == 2.0
    by_sync = "stackctl_stacks_by_sync_status"
    assert found[(by_sync, (("sync_status", "Suspended"),))] == 2.0
    assert found[(by_sync, (("sync_status", "OutOfSync"),))] == 0.0
    assert found[(by_sync, (("sync_status", "Synced"),))] == 1.0


def test_the_console_flags_them_and_does_not_count_them_out_of_sync(stacks, db_path):
    with TestClient(create_app(db_path=db_path)) as client:
        table = client.get("/ui/stacks/table").text
    rows = dict(re.findall(r'<tr data-stack="([^"]+)">(.*?)</tr>', table, re.S))
    def flags(name: str) -> str:
        return re.search(r'data-field="flags">(.*?)</td>', rows[name]).group(1)

    assert 'title="by spec.suspend in its manifest">suspended</span>' in flags("declared")
    assert 'title="by stackctl suspend">suspended</span>' in flags("flagged")
    for name in SUSPENDED:
        assert ">Suspended</span>" in re.search(r'data-field="sync">(.*?)</td>',
                                                rows[name]).group(1)
    assert "suspended" not in flags("plain")
    counts = dict((k, int(v)) for v, k in [
        (m.group(2), m.group(1))
        for m in re.finditer(r'data-count="([a-z-]+)">(\d+)<', table)])
    assert counts == {"total": 3, "synced": 1, "out-of-sync": 0, "suspended": 2,
                      "degraded": 0, "failed": 0}


def test_the_console_stack_page_says_who_suspended_it(stacks, db_path):
    with TestClient(create_app(db_path=db_path)) as client:
        declared = client.get("/stacks/declared").text
        flagged = client.get("/stacks/flagged").text
    field = r'data-field="suspended">(.*?)</dd>'
    assert "by spec.suspend in its manifest" in re.search(field, declared, re.S).group(1)
    assert "by stackctl suspend" in re.search(field, flagged, re.S).group(1)
    assert "SuspendedByManifest" in declared
    # Resume lifts the operator's suspension; the manifest's is lifted in the manifest.
    assert "/resume" in flagged and "/resume" not in declared


def test_resume_lifts_the_operators_suspension_and_says_when_the_manifest_holds_it(stacks):
    operations.resume(stacks, "flagged")
    assert not stacks.stacks.require("flagged").suspended
    operations.resume(stacks, "declared")
    declared = stacks.stacks.require("declared")
    assert (declared.suspended, declared.suspended_by) == (True, ("manifest",))
    [event] = [e for e in stacks.events.list(stack_id="declared").items if e.reason == "Resumed"]
    assert event.message.endswith(
        "still suspended: v1 says `suspend: true` (its manifest lifts it)")
