"""Errors carry what to do next: docker errors translated at the boundary, transient ones retried
with backoff, permanent ones recorded. No engine needed: the unreachable one is 127.0.0.1:1."""

from __future__ import annotations

import random
from pathlib import Path

import docker
import pytest
import requests
from docker import errors as docker_errors
from helpers.harness import make_harness
from helpers.stacks import desired_stack

from controller.backends.docker import Engine
from controller.backends.shared.translate import translate
from controller.commands.worker import backoff_delay
from controller.models import Command, CommandStatus, CommandType, SyncStatus
from controller.models.errors import NotFoundError, PermanentError, TransientError
from controller.sources.versions import record_version


def api_error(status: int, message: str) -> docker_errors.APIError:
    response = requests.Response()
    response.status_code = status
    return docker_errors.APIError(message, response=response, explanation=message)


@pytest.mark.parametrize(
    ("error", "kind", "text"),
    [
        (requests.exceptions.ConnectionError("refused"), TransientError, "engine unreachable"),
        (api_error(500, "server exploded"), TransientError, "engine error 500"),
        (api_error(500, "Bind for 127.0.0.1:80 failed: port is already allocated"),
         PermanentError, "port is already allocated"),
        (api_error(400, "invalid reference format"), PermanentError, "invalid reference"),
        (api_error(409, "Conflict. The container name is already in use"), PermanentError,
         "already in use"),
        (docker_errors.ImageNotFound("nope"), NotFoundError, "image not found"),
        (docker_errors.NotFound("No such container: web-1"), NotFoundError, "No such container"),
    ],
)
def test_docker_errors_become_project_errors(error, kind, text):
    translated = translate(error, doing="creating web-1")
    assert type(translated) is kind
    assert str(translated).startswith("creating web-1: ")
    assert text in str(translated)


def test_backoff_doubles_from_one_second_to_five_minutes():
    rng = random.Random(7)
    delays = [backoff_delay(n, rng=rng) for n in range(12)]
    assert 0.8 <= delays[0] <= 1.2
    assert 1.6 <= delays[1] <= 2.4
    assert all(240 <= d <= 360 for d in delays[9:])


def dead_engine() -> Engine:
    return Engine(docker.DockerClient(base_url="tcp://127.0.0.1:1", version="1.41", timeout=2))


def test_unreachable_engine_retries_later_and_keeps_everything(tmp_path: Path):
    h = make_harness(tmp_path, engine=dead_engine())
    worker = h.worker
    desired = desired_stack(tmp_path, "shop", {"services": {"web": {"image": "img:1"}}})
    record_version(h.db, desired, root=tmp_path)
    queued = h.db.commands.enqueue(Command(stack_id="shop", type=CommandType.APPLY_STACK_VERSION))
    outcome = worker.run_next()
    assert outcome.command.command_id == queued.command_id
    assert outcome.command.status is CommandStatus.PENDING
    assert outcome.command.attempts == 1
    assert outcome.command.not_before is not None
    assert "engine unreachable" in outcome.command.error
    stack = h.db.stacks.require("shop")
    assert stack.sync_status is SyncStatus.OUT_OF_SYNC
    assert "engine unreachable" in stack.last_error
    messages = [log.message for log in h.db.command_logs.list(queued.command_id)]
    assert messages[0].startswith("APPLY_STACK_VERSION shop started")
    assert messages[-1].startswith("will retry in")


def test_an_unexpected_bug_fails_the_command_with_its_type(tmp_path: Path, monkeypatch):
    h = make_harness(tmp_path, engine=dead_engine())
    desired = desired_stack(tmp_path, "shop", {"services": {"web": {"image": "img:1"}}})
    record_version(h.db, desired, root=tmp_path)
    h.db.commands.enqueue(Command(stack_id="shop", type=CommandType.APPLY_STACK_VERSION))

    def explode(*args, **kwargs):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(h.worker.reconciler, "_observe", explode)
    outcome = h.worker.run_next()
    assert outcome.command.status is CommandStatus.FAILED
    assert outcome.command.error == "internal error: ZeroDivisionError: oops"
