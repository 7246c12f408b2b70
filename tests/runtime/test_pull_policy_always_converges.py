"""``pull_policy: always`` converges (issue 9, item 10).

The final re-plan always held the PULL step, so every apply ended "not converged" and retried
for ever. Pulling is a step, not a difference: the pull runs, then the stack is planned from
what it pulled. The engine's pull is replaced by a re-tag of a local image (no registry is
reachable here): a pull that moves the tag to another image recreates the service's containers;
one that leaves it where it was changes nothing else.
"""

from __future__ import annotations

import pytest

from controller.backends.docker.planner import StepKind, plan
from controller.models import CommandStatus

pytestmark = pytest.mark.engine

SLEEPER = {"command": ["sleep", "3600"], "init": True}


def test_always_pulls_then_recreates_only_when_the_image_moved(h, engine_janitor, test_images,
                                                               docker_client):
    name = engine_janitor.project("pulls")
    ref = f"{name}-img:latest"  # a tag of this test's own, removed below
    docker_client.images.get(test_images.v1).tag(ref)
    pulled_to = [test_images.v1]

    def pull(image: str) -> None:  # what a registry pull does to the tag
        h.engine.calls.add("pull")
        docker_client.images.get(pulled_to[0]).tag(image)

    h.engine.pull = pull
    try:
        desired = h.stack(name, {"services": {"web": {"image": ref, "pull_policy": "always",
                                                      **SLEEPER}}})
        first = h.apply(desired)
        assert first.command.status is CommandStatus.DONE, first.error
        before = h.containers(name)

        h.engine.calls.reset()
        again = h.reconcile(name)  # the registry has nothing new
        assert again.command.status is CommandStatus.DONE, again.error
        assert h.containers(name) == before
        assert h.engine.calls.mutating == 1, h.engine.calls.counts  # the pull, nothing else
        assert any("pull_policy always" in m for m in h.log_messages(again))

        pulled_to[0] = test_images.v2  # a new image was pushed under the same tag
        moved = h.reconcile(name)
        assert moved.command.status is CommandStatus.DONE, moved.error
        assert h.containers(name) != before
        assert any(f"recreate {name}-web-1: image changed" in m for m in h.log_messages(moved))
        # diff plans without the pull: no difference to report.
        assert plan(desired, h.engine.observe(name, images=[ref])).in_sync
        assert StepKind.PULL in {s.kind for s in plan(
            desired, h.engine.observe(name, images=[ref]), pull_always=True).steps}
    finally:
        h.delete(name)
        docker_client.images.remove(ref, noprune=True)
