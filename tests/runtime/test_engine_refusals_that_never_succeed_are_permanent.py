"""An engine answer that can never succeed (a value out of range) fails the command at once,
with the engine's reason: never retried as if the engine were busy (issue 24, item 15).

The memory value goes past the loader (which now refuses it, as the schema and our size rule
do) the way an older version recorded before those checks would: the service's model is given
the value directly. The engine then answers 500 ("json: cannot unmarshal number ... into Go
struct field ... of type int64"), which used to be retried forever. Real engine."""

from __future__ import annotations

import docker
import pytest
import requests
from helpers.docker_compose import SLEEPER

from controller.backends.shared.translate import translate
from controller.models import CommandStatus
from controller.models.errors import PermanentError, TransientError

pytestmark = pytest.mark.engine
HUGE = 358664627076357222581  # bytes: past the engine's int64


def test_a_memory_limit_past_int64_fails_at_once_with_the_engines_reason(
    h, engine_janitor, test_images
):
    name = engine_janitor.project("huge")
    desired = h.stack(name, {"services": {"web": {"image": test_images.v1, **SLEEPER}}})
    web = desired.compose.services["web"]
    huge = web.model_copy(update={"limits": web.limits.model_copy(update={"memory": HUGE})})
    desired = desired.model_copy(update={"compose": desired.compose.model_copy(
        update={"services": {"web": huge}})})

    outcome = h.apply(desired)
    assert outcome.command.status is CommandStatus.FAILED, outcome.command
    assert outcome.command.failures <= 1  # no retry
    assert "cannot unmarshal number 358664627076357222581" in (outcome.command.error or "")
    assert h.containers(name) == {}


def test_what_may_pass_stays_transient():
    """The engine's other 500s (a busy daemon) and no answer at all are still retried."""
    busy = docker.errors.APIError(
        "500 Server Error", response=None, explanation="context deadline exceeded"
    )
    busy.response = requests.Response()
    busy.response.status_code = 500
    assert isinstance(translate(busy, doing="creating x"), TransientError)
    gone = requests.exceptions.ConnectionError("refused")
    assert isinstance(translate(gone, doing="creating x"), TransientError)
    out_of_range = docker.errors.APIError("500", response=busy.response, explanation=(
        "json: cannot unmarshal number 1e+30 into Go struct field HostConfig.Memory of type int64"
    ))
    assert type(translate(out_of_range, doing="creating x")) is PermanentError
