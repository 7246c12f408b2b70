"""``spec.rollback.onFailure`` on a real engine: a version that is never healthy, or whose apply
fails for good, is followed by a copy of the last healthy version (recorded by the controller,
pinned as a manual rollback is), which serves again; with the setting off nothing rolls back; a
rollback that fails too is reported as such and not retried; without a healthy version to go
back to, it is reported and nothing else happens. Each stack is named by the janitor."""

from __future__ import annotations

import socket
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from helpers.harness import Harness, make_harness
from typer.testing import CliRunner

from controller.cli import app
from controller.commands.operations import resume
from controller.commands.worker import Worker
from controller.db import Database
from controller.delivery.rollbacks.decision import AUTO_ROLLBACK_BY
from controller.models import Command, CommandStatus, CommandType, HealthStatus, Stack
from controller.reconcile.reconciler import ReconcilerOptions
from controller.sources.versions import record_and_enqueue, record_version

pytestmark = pytest.mark.engine

ROLLBACK = {"rollback": {"onFailure": True}, "timeout": "8s"}
FAILS_AT_ONCE = {"test": ["CMD", "false"], "interval": "1s", "retries": 1}  # unhealthy in ~1 s
NEVER_DECIDES = {"test": ["CMD", "false"], "interval": "1s", "retries": 1000}  # "starting"


def web(image: str, port: int | None, **more: Any) -> dict[str, Any]:
    service = {
        "image": image,
        "pull_policy": "never",
        "init": True,
        "command": ["httpd", "-f", "-p", "8080", "-h", "/www"],
        **more,
    }
    if port is not None:
        service["ports"] = [f"127.0.0.1:{port}:8080"]
    return {"services": {"web": service}}


def page(port: int, *, within: float = 15.0) -> str:
    deadline = time.monotonic() + within
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
                return answer.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def reasons(h: Harness, name: str) -> list[str]:
    return [e.reason for e in reversed(h.db.events.list(stack_id=name).items)]


def event(h: Harness, name: str, reason: str):
    [found] = [e for e in h.db.events.list(stack_id=name).items if e.reason == reason]
    return found


def serve_v1(h: Harness, name: str, image: str, port: int) -> None:
    outcome = h.apply(h.stack(name, web(image, port), **ROLLBACK))
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    assert h.db.stack_versions.require(name, "v1").healthy_at is not None
    assert "stackctl test image 1" in page(port)


def assert_rolled_back_to_v1(h: Harness, name: str, port: int, *, because: str) -> None:
    """v3 is a copy of v1 made by the controller, current and pinned; its APPLY serves v1."""
    stack = h.db.stacks.require(name)
    assert (stack.current_version, stack.pinned) == ("v3", True)
    v1, v3 = h.db.stack_versions.require(name, "v1"), h.db.stack_versions.require(name, "v3")
    assert v3.digest == v1.digest and v3.parent_version == "v2"
    assert v3.metadata.created_by == AUTO_ROLLBACK_BY
    assert v3.metadata.comment.startswith("rolled back from v2 to v1: ")
    rolled = event(h, name, "RolledBack")
    assert rolled.data["from"] == "v2" and rolled.data["to"] == "v1"
    assert rolled.data["target"] == "v3" and because in rolled.data["reason"]
    assert rolled.message.startswith(f"rolled back from v2 to v1: {rolled.data['reason']}")
    applied = h.worker.run_next()
    assert applied is not None and applied.command.payload["version"] == "v3", applied
    assert applied.command.status is CommandStatus.DONE, applied.error
    stack = h.db.stacks.require(name)
    assert (stack.applied_version, stack.health_status) == ("v3", HealthStatus.HEALTHY)
    assert "stackctl test image 1" in page(port)
    assert h.worker.run_next() is None  # nothing more: no loop


def test_never_healthy_version_rolls_back_and_serves_again(
    tmp_path: Path, engine_janitor, test_images, free_port
):
    h = make_harness(tmp_path, wait_timeout=30)
    name = engine_janitor.project("web")
    serve_v1(h, name, test_images.v1, free_port)

    started = time.monotonic()
    bad = h.apply(
        h.stack(name, web(test_images.v1, free_port, healthcheck=FAILS_AT_ONCE), **ROLLBACK)
    )
    assert bad.command.status is CommandStatus.DONE, bad.error  # v2 *is* applied, unhealthy
    assert time.monotonic() - started < 8  # Degraded decides at once, not at the timeout
    assert any(m.startswith("rolling back from v2 to v1: ") for m in h.log_messages(bad))
    assert_rolled_back_to_v1(h, name, free_port, because=f"{name}-web-1 is unhealthy after")
    assert reasons(h, name)[-3:] == ["StackUnhealthy", "RolledBack", "StackRecovered"]

    described = CliRunner().invoke(app, ["describe", name, "--db", str(tmp_path / "stackctl.db")])
    assert described.exit_code == 0, described.output
    assert f"rolled back from v2 to v1: {name}-web-1 is unhealthy after" in described.stdout
    assert "RolledBackAutomatically" in described.stdout

    assert h.reconcile(name).command.status is CommandStatus.DONE  # a resync: nothing moves
    assert h.db.stacks.require(name).current_version == "v3"
    assert [v.version for v in h.db.stack_versions.list(name)] == ["v1", "v2", "v3"]
    h.db.close()


def test_not_healthy_within_the_timeout_rolls_back(
    tmp_path: Path, engine_janitor, test_images, free_port
):
    h = make_harness(tmp_path, wait_timeout=60)  # the stack's own 3 s is what counts
    name = engine_janitor.project("web")
    serve_v1(h, name, test_images.v1, free_port)
    slow = {**ROLLBACK, "timeout": "3s"}
    started = time.monotonic()
    bad = h.apply(h.stack(name, web(test_images.v1, free_port, healthcheck=NEVER_DECIDES), **slow))
    assert 3 <= time.monotonic() - started < 20
    assert bad.command.status is CommandStatus.DONE, bad.error
    assert_rolled_back_to_v1(h, name, free_port, because="not healthy within 3 s")
    h.db.close()


def test_missing_image_rolls_back(tmp_path: Path, engine_janitor, test_images, free_port):
    h = make_harness(tmp_path, wait_timeout=30)
    name = engine_janitor.project("web")
    serve_v1(h, name, test_images.v1, free_port)
    missing = f"stackctl-test/{engine_janitor.prefix}-missing:never"
    bad = h.apply(h.stack(name, web(missing, free_port), **ROLLBACK))
    assert bad.command.status is CommandStatus.FAILED
    assert "is not present and pull_policy is never" in bad.error
    assert_rolled_back_to_v1(h, name, free_port, because="apply failed: ")
    h.db.close()


def test_the_version_rolled_back_from_waits_for_resume(
    tmp_path: Path, engine_janitor, test_images, free_port
):
    """The pin holds: v2's spec recorded again from the files (as v4) is not applied; only
    ``resume`` applies it, and then it fails and rolls back again, to the healthy v3."""
    h = make_harness(tmp_path, wait_timeout=30)
    name = engine_janitor.project("web")
    serve_v1(h, name, test_images.v1, free_port)
    bad = h.stack(
        name, web(f"stackctl-test/{engine_janitor.prefix}-missing:never", None), **ROLLBACK
    )
    assert h.apply(bad).command.status is CommandStatus.FAILED
    assert h.worker.run_next().command.status is CommandStatus.DONE  # v3, a copy of v1
    again = record_and_enqueue(h.db, bad, root=tmp_path)  # the watcher, on a file change
    assert again.pinned and again.version.version == "v4"
    assert h.worker.run_next() is None
    assert h.db.stacks.require(name).current_version == "v3"

    resume(h.db, name)
    assert h.worker.run_next().command.status is CommandStatus.FAILED  # v4
    rolled = [e for e in h.db.events.list(stack_id=name).items if e.reason == "RolledBack"]
    assert [(e.data["from"], e.data["to"], e.data["target"]) for e in rolled] == [
        ("v4", "v3", "v5"),
        ("v2", "v1", "v3"),
    ]
    assert h.worker.run_next().command.status is CommandStatus.DONE
    stack = h.db.stacks.require(name)
    assert (stack.current_version, stack.applied_version, stack.pinned) == ("v5", "v5", True)
    assert "stackctl test image 1" in page(free_port)
    h.db.close()


def test_with_rollback_off_nothing_rolls_back(
    tmp_path: Path, engine_janitor, test_images, free_port
):
    h = make_harness(tmp_path, wait_timeout=30)
    name = engine_janitor.project("web")
    serve_v1(h, name, test_images.v1, free_port)
    bad = h.apply(h.stack(name, web(test_images.v1, free_port, healthcheck=FAILS_AT_ONCE)))
    assert bad.command.status is CommandStatus.DONE
    missing = h.apply(h.stack(name, web(f"stackctl-test/{engine_janitor.prefix}-no:1", None)))
    assert missing.command.status is CommandStatus.FAILED
    stack = h.db.stacks.require(name)
    assert (stack.current_version, stack.pinned) == ("v3", False)
    assert [v.version for v in h.db.stack_versions.list(name)] == ["v1", "v2", "v3"]
    assert not {"RolledBack", "RollbackFailed"} & set(reasons(h, name))
    assert h.worker.run_next() is None
    h.db.close()


def test_a_rollback_that_fails_is_reported_and_not_retried(
    tmp_path: Path, engine_janitor, test_images, free_port
):
    h = make_harness(tmp_path, wait_timeout=30)
    name = engine_janitor.project("web")
    serve_v1(h, name, test_images.v1, free_port)
    # v2 publishes nothing: once it runs, v1's port is free, and this test takes it.
    bad = h.apply(h.stack(name, web(test_images.v1, None, healthcheck=FAILS_AT_ONCE), **ROLLBACK))
    assert bad.command.status is CommandStatus.DONE
    assert h.db.stacks.require(name).current_version == "v3"
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
        taken.bind(("127.0.0.1", free_port))
        taken.listen()
        rollback = h.worker.run_next()
    assert rollback is not None and rollback.command.status is CommandStatus.FAILED
    failed = event(h, name, "RollbackFailed")
    assert failed.message.startswith("rollback from v2 to v1 (as v3) failed: apply failed: ")
    assert failed.message.endswith("no further automatic rollback")
    assert (failed.data["from"], failed.data["to"], failed.data["target"]) == ("v2", "v1", "v3")
    stack = h.db.stacks.require(name)
    assert stack.last_error.startswith("automatic rollback: rollback from v2 to v1 (as v3)")
    assert (stack.current_version, stack.pinned) == ("v3", True)
    assert [v.version for v in h.db.stack_versions.list(name)] == ["v1", "v2", "v3"]
    assert h.worker.run_next() is None  # no second rollback, no retry of v2
    assert h.reconcile(name).command.status is CommandStatus.DONE  # the port is free again
    assert reasons(h, name).count("RollbackFailed") == 1
    assert "stackctl test image 1" in page(free_port)
    h.db.close()


def test_a_rollback_that_is_not_healthy_either_is_reported_and_not_retried(
    tmp_path: Path, engine_janitor, test_images, free_port
):
    h = make_harness(tmp_path, wait_timeout=30)
    name = engine_janitor.project("web")
    state = tmp_path / "state"
    state.mkdir()
    (state / "ok").write_text("")
    checks_state = {"test": ["CMD", "test", "-e", "/state/ok"], "interval": "1s", "retries": 1}
    v1 = web(test_images.v1, free_port, healthcheck=checks_state, volumes=[f"{state}:/state"])
    assert h.apply(h.stack(name, v1, **ROLLBACK)).command.status is CommandStatus.DONE
    assert h.db.stacks.require(name).health_status is HealthStatus.HEALTHY
    bad = web(test_images.v1, free_port, healthcheck=FAILS_AT_ONCE, volumes=[f"{state}:/state"])
    assert h.apply(h.stack(name, bad, **ROLLBACK)).command.status is CommandStatus.DONE
    assert h.db.stacks.require(name).current_version == "v3"
    (state / "ok").unlink()  # what made v1 healthy is gone: its copy v3 is not healthy
    rollback = h.worker.run_next()
    assert rollback.command.status is CommandStatus.DONE  # applied, not healthy
    failed = event(h, name, "RollbackFailed")
    assert failed.message.startswith("rollback from v2 to v1 (as v3) failed: ")
    assert f"{name}-web-1 is unhealthy after" in failed.message
    stack = h.db.stacks.require(name)
    assert (stack.current_version, stack.pinned) == ("v3", True)
    assert h.db.stack_versions.require(name, "v3").healthy_at is None
    assert h.worker.run_next() is None
    assert h.reconcile(name).command.status is CommandStatus.DONE
    assert reasons(h, name).count("RollbackFailed") == 1
    assert [v.version for v in h.db.stack_versions.list(name)] == ["v1", "v2", "v3"]
    h.db.close()


def test_no_healthy_version_to_go_back_to_is_reported_and_nothing_else(
    tmp_path: Path, engine_janitor, test_images
):
    h = make_harness(tmp_path, wait_timeout=30)
    name = engine_janitor.project("web")
    first = h.apply(h.stack(name, web(test_images.v1, None, healthcheck=FAILS_AT_ONCE), **ROLLBACK))
    assert first.command.status is CommandStatus.DONE
    failed = event(h, name, "RollbackFailed")
    assert failed.message.startswith(f"cannot roll back from v1 ({name}-web-1 is unhealthy")
    assert failed.message.endswith("no version before v1 was ever healthy")
    stack = h.db.stacks.require(name)
    assert (stack.current_version, stack.pinned) == ("v1", False)
    assert stack.last_error.startswith("automatic rollback: cannot roll back from v1")
    assert [v.version for v in h.db.stack_versions.list(name)] == ["v1"]
    assert h.worker.run_next() is None
    assert h.reconcile(name).command.status is CommandStatus.DONE
    assert reasons(h, name).count("RollbackFailed") == 1  # decided once
    h.db.close()


def test_a_wait_cut_short_counts_toward_the_timeout_from_the_apply(
    tmp_path: Path, engine_janitor, test_images, free_port
):
    """The controller ends a health wait early when other work waits; the follow-up counts
    from the end of the apply (the database's clock), so it decides once the timeout is past
    instead of waiting it all again, and the cut itself decides nothing."""
    now = [datetime.now(UTC)]
    db = Database(db_path=tmp_path / "stackctl.db", clock=lambda: now[0])
    h = make_harness(tmp_path, wait_timeout=60)
    h.db.close()
    h.db = db
    h.worker = Worker(
        db,
        h.engine,
        worker_id="w",
        options=ReconcilerOptions(
            files_dir=tmp_path / "files",
            wait_timeout=60,
            yield_health_wait=True,
            worker_limit=1,
            follow_up_after=10,
        ),
    )
    name, other = engine_janitor.project("web"), engine_janitor.project("other")
    serve_v1(h, name, test_images.v1, free_port)

    slow = {**ROLLBACK, "timeout": "20s"}
    record_version(
        db,
        h.stack(name, web(test_images.v1, free_port, healthcheck=NEVER_DECIDES), **slow),
        root=tmp_path,
    )
    db.commands.enqueue(Command(stack_id=name, type=CommandType.APPLY_STACK_VERSION))
    db.stacks.create(Stack(stack_id=other, name=other))
    db.commands.enqueue(Command(stack_id=other, type=CommandType.RECONCILE))  # waits its turn
    started = time.monotonic()
    cut = h.worker.run_next()
    assert cut.command.stack_id == name and cut.command.status is CommandStatus.DONE
    assert time.monotonic() - started < 15
    assert any("the wait ends here" in m for m in h.log_messages(cut))
    assert h.db.stacks.require(name).current_version == "v2"  # cut short: nothing decided
    assert h.worker.run_next().command.stack_id == other

    now[0] += timedelta(seconds=25)  # past the timeout
    started = time.monotonic()
    follow_up = h.worker.run_next()
    assert follow_up.command.payload["watch"]["version"] == "v2"
    assert time.monotonic() - started < 10  # it did not wait 20 s again
    assert_rolled_back_to_v1(h, name, free_port, because="not healthy within 20 s")
    db.close()
