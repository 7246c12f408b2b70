"""The sender against a real HTTP server on 127.0.0.1: Apprise's json://, the signed webhook,
filters, a stack's own destinations, retries, and a destination that hangs."""

from __future__ import annotations

import hashlib
import hmac
import threading
from pathlib import Path

import pytest
from helpers.recorder import Recorder
from helpers.stacks import desired_stack

from controller.db import Database
from controller.delivery.notifications.sender import Sender
from controller.desired.delivery import NotifyTarget
from controller.models import Event, LogLevel
from controller.sources.loader.delivery_keys import parse_destination
from controller.sources.versions import record_version

COMPOSE = {"services": {"web": {"image": "busybox:1", "pull_policy": "never"}}}


@pytest.fixture
def db(tmp_path: Path):
    with Database(db_path=tmp_path / "stackctl.db") as database:
        yield database


def unhealthy(db: Database, stack: str = "shop") -> None:
    db.events.add(
        Event(
            stack_id=stack,
            level=LogLevel.WARNING,
            reason="StackUnhealthy",
            message=f"{stack} is Degraded: web unhealthy",
        )
    )


def test_apprise_json_posts_the_message_with_its_delivery_key(db, recorder: Recorder, tmp_path):
    record_version(db, desired_stack(tmp_path, "shop", COMPOSE), root=tmp_path)
    sender = Sender(db, destinations=[NotifyTarget(url=f"json://{recorder.base}/hook")])
    sender.drain()
    (request,) = recorder.wait_for("/hook")
    assert request.headers["x-stackctl-delivery"] == "version:shop:v1"
    assert request.headers["x-stackctl-event"] == "version.recorded"
    body = request.json()
    assert body["title"] == "stackctl: version recorded: shop"
    assert "shop v1 recorded" in body["message"]
    assert db.outbox.counts() == {(f"json://{recorder.base}", "SENT"): 1}
    sender.drain()
    assert len(recorder.received("/hook")) == 1  # sent is sent


def test_the_native_webhook_is_signed_with_the_secret_file(db, recorder: Recorder, tmp_path):
    secret = tmp_path / "hook.secret"
    secret.write_text("s3cret\n")
    url = f"webhook+http://{recorder.base}/signed?secret_file={secret}"
    unhealthy(db)
    Sender(db, destinations=[parse_destination(url)]).drain()
    (request,) = recorder.wait_for("/signed")
    expected = hmac.new(b"s3cret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-stackctl-signature-256"] == f"sha256={expected}"
    assert request.headers["x-stackctl-event"] == "health.degraded"
    body = request.json()
    assert body["kind"] == "health.degraded" and body["stack"] == "shop"
    assert body["id"] == request.headers["x-stackctl-delivery"]
    assert "secret_file" not in request.path


def test_each_destination_gets_only_the_events_it_asked_for(db, recorder: Recorder, tmp_path):
    record_version(db, desired_stack(tmp_path, "shop", COMPOSE), root=tmp_path)
    unhealthy(db)
    sender = Sender(
        db,
        destinations=[
            parse_destination(f"health=json://{recorder.base}/health"),
            parse_destination(f"version.recorded,apply.failed=json://{recorder.base}/versions"),
            parse_destination(f"json://{recorder.base}/all"),
        ],
    )
    sender.drain()
    recorder.wait_for("/all", 2)
    assert [r.headers["x-stackctl-event"] for r in recorder.received("/health")] == [
        "health.degraded"
    ]
    assert [r.headers["x-stackctl-event"] for r in recorder.received("/versions")] == [
        "version.recorded"
    ]


def test_a_stacks_own_destinations_replace_the_controllers(db, recorder: Recorder, tmp_path):
    own = desired_stack(tmp_path, "shop", COMPOSE, notify=[f"json://{recorder.base}/shop"])
    record_version(db, own, root=tmp_path)
    record_version(db, desired_stack(tmp_path, "blog", COMPOSE), root=tmp_path)
    Sender(db, destinations=[NotifyTarget(url=f"json://{recorder.base}/default")]).drain()
    recorder.wait_for("/default")
    assert [r.headers["x-stackctl-delivery"] for r in recorder.received("/shop")] == [
        "version:shop:v1"
    ]
    assert [r.headers["x-stackctl-delivery"] for r in recorder.received("/default")] == [
        "version:blog:v1"
    ]


def test_a_destination_answering_500_is_retried_and_one_answering_404_given_up(
    db, recorder: Recorder
):
    recorder.answer("/flaky", 500)
    recorder.answer("/gone", 404)
    unhealthy(db)
    sender = Sender(
        db,
        destinations=[
            parse_destination(f"webhook+http://{recorder.base}/flaky?secret_file=/dev/null"),
            parse_destination(f"webhook+http://{recorder.base}/gone?secret_file=/dev/null"),
        ],
    )
    sender.drain()
    assert len(recorder.received("/flaky")) == 1 and len(recorder.received("/gone")) == 1
    counts = db.outbox.counts()
    assert counts[(f"webhook+http://{recorder.base}", "PENDING")] == 1
    assert counts[(f"webhook+http://{recorder.base}", "FAILED")] == 1
    (pending,) = [d for d in db.outbox.messages()[0]["deliveries"] if d["status"] == "PENDING"]
    assert pending["error"] == f"webhook+http://{recorder.base} answered 500"
    assert pending["attempts"] == 1
    recorder.answer("/flaky", 200)
    with db.transaction() as conn:  # the backoff's time has come
        conn.execute("UPDATE deliveries SET next_at = '2000-01-01T00:00:00.000000Z'")
    sender.drain()
    assert len(recorder.received("/flaky")) == 2
    assert (f"webhook+http://{recorder.base}", "SENT") in db.outbox.counts()


def test_a_hanging_destination_holds_only_its_own_deliveries(db, recorder: Recorder):
    recorder.hold("/slow")
    unhealthy(db)
    sender = Sender(
        db,
        destinations=[
            NotifyTarget(url=f"json://{recorder.base}/slow"),
            NotifyTarget(url=f"json://{recorder.base}/fast"),
        ],
    )
    stop = threading.Event()
    thread = threading.Thread(target=sender.run, args=(stop,), daemon=True)
    thread.start()
    try:
        recorder.wait_for("/fast")  # arrives while /slow still hangs
        assert recorder.received("/slow") == []
        for n in range(40):  # more than the sender takes in a round: none waits behind /slow
            unhealthy(db, f"s{n}")
        recorder.wait_for("/fast", 41)
        assert recorder.received("/slow") == []
    finally:
        recorder.release()
        stop.set()
        thread.join(timeout=30)


def test_metrics_show_deliveries_by_destination_and_status(db, recorder: Recorder, tmp_path):
    from fastapi.testclient import TestClient
    from prometheus_client.parser import text_string_to_metric_families

    from controller.web.api.app import create_app

    recorder.answer("/down", 503)
    unhealthy(db)
    Sender(
        db,
        destinations=[
            NotifyTarget(url=f"json://{recorder.base}/up"),
            NotifyTarget(url=f"json://{recorder.base}/down"),
        ],
    ).drain()
    with TestClient(create_app(db_path=tmp_path / "stackctl.db")) as client:
        text = client.get("/metrics").text
    found = {
        (s.labels["destination"], s.labels["status"]): s.value
        for family in text_string_to_metric_families(text)
        if family.name == "stackctl_notification_deliveries"
        for s in family.samples
    }
    assert found == {
        (f"json://{recorder.base}", "SENT"): 1.0,
        (f"json://{recorder.base}", "PENDING"): 1.0,
    }


def test_the_api_lists_notifications_and_where_they_went(db, recorder: Recorder, tmp_path):
    from fastapi.testclient import TestClient

    from controller.web.api.app import create_app

    unhealthy(db, "shop")
    unhealthy(db, "blog")
    Sender(db, destinations=[NotifyTarget(url=f"json://{recorder.base}/x?token=abc")]).drain()
    with TestClient(create_app(db_path=tmp_path / "stackctl.db")) as client:
        items = client.get("/api/v1/notifications", params={"stack": "shop"}).json()["items"]
        every = client.get("/api/v1/notifications").json()["items"]
    assert [i["stack_id"] for i in every] == ["blog", "shop"]
    (item,) = items
    assert (
        item["kind"] == "health.degraded" and item["message"] == "shop is Degraded: web unhealthy"
    )
    assert item["deliveries"] == [
        {"label": f"json://{recorder.base}", "status": "SENT", "attempts": 1, "error": None}
    ]
    assert "abc" not in str(every)
