"""``Engine.observe_fleet`` lists the engine once; its ``snapshot(stack)`` must be exactly what
``Engine.observe(stack)`` says, for every state a stack's objects can be in: running with and
without a healthcheck, stopped by hand, several replicas, a named network and volume, and
objects of the same project made by ``docker compose`` (labelled) or named like Compose names."""

from __future__ import annotations

import time

import pytest

from controller.backends.docker.planner import image_refs, object_names
from controller.models import CommandStatus

pytestmark = pytest.mark.engine

HEALTHY = {
    "command": ["httpd", "-f", "-p", "8080", "-h", "/www"],
    "init": True,
    "healthcheck": {"test": ["CMD", "true"], "interval": "1s", "retries": 3},
}
SLEEPER = {"command": ["sleep", "3600"], "init": True}


def same(h, desired) -> None:
    refs, names = image_refs(desired), object_names(desired)
    one = h.engine.observe(desired.name, images=refs, names=names)
    fleet = h.engine.observe_fleet().snapshot(desired.name, images=refs, names=names)
    assert fleet == one


def test_fleet_snapshots_equal_per_stack_observations(h, engine_janitor, test_images,
                                                     docker_client):
    name = engine_janitor.project("fleet")
    desired = h.stack(name, {
        "services": {
            "web": {"image": test_images.v1, **HEALTHY, "networks": ["front"],
                    "volumes": ["data:/data"]},
            "jobs": {"image": test_images.v1, **SLEEPER, "deploy": {"replicas": 2}},
        },
        "networks": {"front": {"name": f"{name}-front"}},
        "volumes": {"data": {"name": f"{name}-data"}},
    })
    assert h.apply(desired).command.status is CommandStatus.DONE
    same(h, desired)

    docker_client.containers.get(f"{name}-jobs-2").stop(timeout=1)  # exited, by hand
    same(h, desired)

    # What `docker compose` would leave in the project: a labelled container, one named as
    # Compose v2 names them with no label at all, and a one-off `run` (never a replica).
    for cname, labels in ((f"{name}-extra-1", engine_janitor.labels(
                               "fleet", **{"com.docker.compose.service": "extra",
                                           "com.docker.compose.container-number": "1"})),
                          (f"{name}-bare-1", {}),
                          (f"{name}-web-run-1", engine_janitor.labels(
                              "fleet", **{"com.docker.compose.oneoff": "True"}))):
        container = docker_client.containers.create(test_images.v1, ["sleep", "3600"],
                                                    name=cname, labels=labels)
        engine_janitor.register(container)
    docker_client.containers.get(f"{name}-extra-1").start()
    same(h, desired)


def test_a_running_containers_health_is_read_from_the_list(engine_janitor, test_images,
                                                          docker_client):
    """Starting, then healthy or unhealthy: a running container's list entry says its health
    as its inspection does (the fleet reads the list and inspects only what is not running)."""
    from controller.backends.docker import Engine

    engine = Engine()
    name = engine_janitor.project("health")
    for service, test in (("good", ["CMD", "true"]), ("bad", ["CMD", "false"])):
        labels = engine_janitor.labels("health", **{
            "io.stackctl.managed": "true", "com.docker.compose.service": service,
            "com.docker.compose.container-number": "1"})
        container = docker_client.containers.run(
            test_images.v1, ["sleep", "3600"], name=f"{name}-{service}-1", labels=labels,
            detach=True, healthcheck={"test": test, "interval": 500_000_000, "retries": 1})
        engine_janitor.register(container)
    seen: set[tuple[str | None, ...]] = set()
    for _ in range(40):
        one = engine.observe(name)
        engine.calls.reset()
        fleet = engine.observe_fleet().snapshot(name)
        assert "inspect_container" not in engine.calls.counts  # all running: read from the list
        if fleet != one:  # a health check ended between the two looks: look again
            continue
        seen.add(tuple(c.health for c in fleet.containers))
        if ("unhealthy", "healthy") in seen:
            break
        time.sleep(0.25)
    assert ("unhealthy", "healthy") in seen  # bad-1, good-1
    assert any("starting" in health for health in seen)
