"""``/metrics`` after a compaction: every ``stackctl_`` sample (counters, every histogram bucket,
count and sum, gauges) reads as before, although old commands and events are gone."""

from __future__ import annotations

from datetime import timedelta

from helpers.seeding import record
from prometheus_client.parser import text_string_to_metric_families

from controller.db import Database, RetentionPolicy
from controller.models import Command, CommandType, Event, LogLevel
from controller.models.timestamps import utc_now

DURATIONS = (0.05, 0.4, 3.0, 20.0, 90.0, 700.0)  # seconds, spread over both histograms


def ours(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("stackctl_"):
                found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_a_scrape_after_compaction_reports_what_it_did_before(make_client, tmp_path):
    now = [utc_now() - timedelta(days=60)]
    db_path = tmp_path / "compacted.db"

    def later(seconds: float) -> None:
        now[0] += timedelta(seconds=seconds)

    with Database(db_path=db_path, clock=lambda: now[0]) as db:
        for stack_id in ("shop", "blog"):
            record(db, tmp_path, stack_id, "stackctl-test/busybox:1", applied=True)
        for n in range(24):
            stack_id, kind = ("shop", "blog")[n % 2], list(CommandType)[n % 3]
            command = db.commands.enqueue(Command(stack_id=stack_id, type=kind, created_at=now[0]))
            if n % 5 == 4:  # cancelled while it waited: never started
                db.commands.request_cancel(command.command_id, reason="test")
                continue
            later(DURATIONS[n % len(DURATIONS)])
            db.commands.claim(worker_id="w")
            later(DURATIONS[(n + 2) % len(DURATIONS)])
            if n % 4 == 1:
                db.commands.fail(command.command_id, error="boom")
            else:
                db.commands.complete(command.command_id)
            db.events.add(
                Event(
                    stack_id=stack_id if n % 3 else None,
                    ts=now[0],
                    level=LogLevel.ERROR,
                    reason="ManifestInvalid",
                    message="bad",
                )
            )
        db.commands.enqueue(Command(stack_id="shop", type=CommandType.RECONCILE, created_at=now[0]))
        client = make_client(db_path=db_path)
        before = ours(client.get("/metrics").text)
        later(40 * 86_400)
        result = db.retention.compact(
            RetentionPolicy(keep_commands=1, keep_days=7, event_days=30), batch=5
        )
        assert result.commands >= 15 and result.events == 20
    after = ours(client.get("/metrics").text)
    assert after == before
    assert before[("stackctl_queue_depth", (("status", "PENDING"),))] == 1.0
    assert before[("stackctl_manifest_errors_total", (("stack", ""),))] == 7.0
    wait_count = before[("stackctl_queue_wait_seconds_count", (("type", "RECONCILE"),))]
    assert wait_count > 1
