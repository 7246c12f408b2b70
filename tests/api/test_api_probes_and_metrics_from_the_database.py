"""``/healthz``, ``/readyz`` and ``/metrics``: probes answer what they check, and the metrics
are computed from the database at scrape time (so a new process reports the same numbers)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers.seeding import record
from prometheus_client.parser import text_string_to_metric_families

from controller.db import Database
from controller.models import Command, CommandType
from controller.models.timestamps import utc_now


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_healthz_answers_while_the_process_lives(client):
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_checks_the_database_by_default(client):
    response = client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"database": True})


@pytest.mark.parametrize(
    ("checks", "status"),
    [
        ({"database": True, "engine": True, "watcher": True}, 200),
        ({"database": True, "engine": False, "watcher": True}, 503),
        ({"database": True, "engine": True, "watcher": False}, 503),
    ],
)
def test_readyz_reports_each_check_of_the_daemon(make_client, checks, status):
    response = make_client(readiness=lambda: checks).get("/readyz")
    failing = [name for name, ok in checks.items() if not ok]
    reason = {"reason": f"{failing[0]}: not ready"} if failing else {}
    assert (response.status_code, response.json()) == (status, {**checks, **reason})


def test_readyz_says_why_a_check_fails(make_client):
    checks = {"database": "database x.db: disk full: database or disk is full", "engine": True}
    response = make_client(readiness=lambda: checks).get("/readyz")
    assert (response.status_code, response.json()) == (
        503,
        {
            "database": False,
            "engine": True,
            "reason": "database: database x.db: disk full: database or disk is full",
        },
    )


def test_readyz_is_503_when_a_check_raises(make_client):
    def broken() -> dict[str, bool]:
        raise RuntimeError("watcher thread gone")

    response = make_client(readiness=broken).get("/readyz")
    assert (response.status_code, response.json()) == (
        503,
        {"readiness": False, "reason": "readiness: the check failed: watcher thread gone"},
    )


def test_readyz_is_503_when_the_database_cannot_be_opened(make_client, tmp_path):
    (tmp_path / "not-a-db").mkdir()
    client = make_client(db_path=tmp_path / "not-a-db")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] is False
    assert "cannot open the database" in response.json()["reason"]
    metrics = samples(client.get("/metrics").text)
    assert metrics[("stackctl_database_up", ())] == 0.0


def test_metrics_count_reconciles_queue_stacks_and_manifest_errors(make_client, seeded):
    response = make_client(engine_calls=lambda: {"ping": 2, "list_containers": 5}).get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    assert found[("stackctl_database_up", ())] == 1.0
    assert found[("stackctl_reconciles_total",
                  (("result", "DONE"), ("stack", "shop"), ("type", "RECONCILE")))] == 1.0
    assert found[("stackctl_reconciles_total",
                  (("result", "FAILED"), ("stack", "shop"), ("type", "APPLY_STACK_VERSION")))] == 1
    assert found[("stackctl_queue_depth", (("status", "PENDING"),))] == 1.0
    assert found[("stackctl_queue_depth", (("status", "RUNNING"),))] == 0.0
    assert ("stackctl_queue_depth", (("status", "DONE"),)) not in found  # finished: a counter
    assert found[("stackctl_commands_finished_total", (("status", "DONE"),))] == 1.0
    assert found[("stackctl_commands_finished_total", (("status", "CANCELLED"),))] == 0.0
    assert found[("stackctl_stacks_by_sync_status", (("sync_status", "Synced"),))] == 1.0
    assert found[("stackctl_stacks_by_sync_status", (("sync_status", "Unknown"),))] == 1.0
    assert found[("stackctl_stacks_by_health_status", (("health_status", "Healthy"),))] == 1.0
    assert found[("stackctl_stacks_by_health_status", (("health_status", "Degraded"),))] == 0.0
    assert found[("stackctl_stacks_pinned", ())] == 0.0
    assert found[("stackctl_manifest_errors_total", (("stack", "shop"),))] == 1.0
    assert found[("stackctl_engine_calls_total", (("operation", "list_containers"),))] == 5.0
    finished = found[("stackctl_reconcile_duration_seconds_count", (("type", "RECONCILE"),))]
    assert finished == 1.0
    waited = found[("stackctl_queue_wait_seconds_count", (("type", "APPLY_STACK_VERSION"),))]
    assert waited == 1.0  # the failed APPLY was claimed; the pending one was not


def test_histogram_buckets_come_from_the_stored_timestamps(make_client, tmp_path):
    """A clock we move: one command waits 3 s and runs 20 s."""
    now = [utc_now()]
    db_path = tmp_path / "clocked.db"
    with Database(db_path=db_path, clock=lambda: now[0]) as db:
        record(db, tmp_path, "shop", "stackctl-test/busybox:1", applied=True)
        command = db.commands.enqueue(
            Command(stack_id="shop", type=CommandType.RECONCILE, created_at=now[0])
        )
        now[0] += timedelta(seconds=3)
        db.commands.claim(worker_id="w")
        now[0] += timedelta(seconds=20)
        db.commands.complete(command.command_id)
    found = samples(make_client(db_path=db_path).get("/metrics").text)
    run = "stackctl_reconcile_duration_seconds"
    rec = ("type", "RECONCILE")
    assert found[(f"{run}_bucket", (("le", "10.0"), rec))] == 0.0
    assert found[(f"{run}_bucket", (("le", "30.0"), rec))] == 1.0
    assert found[(f"{run}_sum", (rec,))] == pytest.approx(20.0, abs=0.01)
    wait = "stackctl_queue_wait_seconds"
    assert found[(f"{wait}_bucket", (("le", "1.0"), rec))] == 0.0
    assert found[(f"{wait}_bucket", (("le", "5.0"), rec))] == 1.0
    assert found[(f"{wait}_bucket", (("le", "+Inf"), rec))] == 1.0


def test_a_new_app_on_the_same_database_reports_the_same_numbers(make_client, seeded):
    def ours(text: str) -> dict:  # the process metrics (CPU, memory, gc) move between scrapes
        return {key: n for key, n in samples(text).items() if key[0].startswith("stackctl_")}

    first = ours(make_client().get("/metrics").text)
    second = ours(make_client().get("/metrics").text)
    assert first == second


def test_metrics_export_the_process_and_platform_metrics(make_client):
    found = samples(make_client().get("/metrics").text)
    assert found[("process_start_time_seconds", ())] > 0
    assert found[("process_resident_memory_bytes", ())] > 0
    assert any(name == "python_info" for name, _ in found)
    assert any(name.startswith("python_gc_") for name, _ in found)


def test_deleted_stacks_are_not_counted_as_synced_or_missing(make_client, db, seeded):
    from controller.models import HealthStatus, SyncStatus

    db.stacks.update("blog", current_version=None, applied_version=None,
                     sync_status=SyncStatus.SYNCED, health_status=HealthStatus.MISSING)
    found = samples(make_client().get("/metrics").text)
    assert found[("stackctl_stacks_by_sync_status", (("sync_status", "Synced"),))] == 1.0  # shop
    assert found[("stackctl_stacks_by_sync_status", (("sync_status", "Unknown"),))] == 0.0
    assert found[("stackctl_stacks_by_health_status", (("health_status", "Missing"),))] == 0.0
