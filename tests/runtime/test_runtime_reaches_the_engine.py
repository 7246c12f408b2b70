"""`runtime` (Compose's OCI runtime of a service) is carried to the engine, as `docker compose
up` carries it (docker-py's `create_host_config(runtime=...)`); changing it recreates the
container (issue 26, item 5)."""

from __future__ import annotations

import pytest

from controller.models import CommandStatus

pytestmark = pytest.mark.engine


def test_runtime_is_the_containers_runtime(h, engine_janitor, test_images, docker_client):
    name = engine_janitor.project("runtime")
    service = {"image": test_images.v1, "command": ["sleep", "3600"], "runtime": "runc"}
    outcome = h.apply(h.stack(name, {"services": {"app": service}}))
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    info = docker_client.api.inspect_container(f"{name}-app-1")
    assert info["HostConfig"]["Runtime"] == "runc"
    without = h.stack(name, {"services": {"app": {k: v for k, v in service.items()
                                                   if k != "runtime"}}})
    assert without.compose.services["app"].runtime is None
    assert without.service_hashes["app"] != h.stack(
        name, {"services": {"app": service}}).service_hashes["app"]
