"""On the real engine: what the worker's commands put in the outbox. One message per
transition: an APPLY starts and succeeds, a RECONCILE that corrects drift says so, one with
nothing to do says nothing, and a failure repeated by every resync is said once."""

from __future__ import annotations

import pytest
from helpers.harness import make_harness

from controller.models import CommandStatus


def kinds(db, stack: str) -> list[str]:
    return [m["kind"] for m in reversed(db.outbox.messages(stack_id=stack, limit=100))]


@pytest.mark.engine
def test_apply_drift_and_repeated_failures(tmp_path, engine_janitor, test_images, docker_client):
    h = make_harness(tmp_path, wait_timeout=10)
    name = engine_janitor.project("said")
    stack = h.stack(
        name, {"services": {"web": {"image": test_images.v1, "command": ["sleep", "3600"]}}}
    )
    outcome = h.apply(stack)
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    assert kinds(h.db, name) == ["version.recorded", "apply.started", "apply.succeeded"]
    (succeeded,) = [
        m for m in h.db.outbox.messages(stack_id=name) if m["kind"] == "apply.succeeded"
    ]
    text = succeeded["message"]
    assert text.startswith(f"{name} v1 applied: 2 changes: "), text
    assert f"create {name}-web-1: new service" in text and text.endswith("; Healthy"), text

    assert h.reconcile(name).command.status is CommandStatus.DONE  # nothing to do
    assert kinds(h.db, name) == ["version.recorded", "apply.started", "apply.succeeded"]

    docker_client.containers.get(f"{name}-web-1").remove(force=True)
    assert h.reconcile(name).command.status is CommandStatus.DONE
    assert kinds(h.db, name)[-1] == "drift.corrected", kinds(h.db, name)

    missing = h.stack(
        name, {"services": {"web": {"image": f"{test_images.v1}-absent", "pull_policy": "never"}}}
    )
    assert h.apply(missing).command.status is CommandStatus.FAILED
    for _ in range(3):  # what every resync would do
        assert h.reconcile(name).command.status is CommandStatus.FAILED
    said = kinds(h.db, name)
    assert said[-3:] == ["version.recorded", "apply.started", "apply.failed"], said
    (failed,) = [m for m in h.db.outbox.messages(stack_id=name) if m["kind"] == "apply.failed"]
    assert "not present and pull_policy is never" in failed["message"]
    h.db.close()
