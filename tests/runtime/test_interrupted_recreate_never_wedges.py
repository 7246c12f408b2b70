"""A controller killed in the middle of a recreate never wedges the stack (issue 9, item 1).

A recreate creates the replacement under a temporary name, stops and removes the old
container, renames the replacement and starts it. These tests leave on a real engine what a
SIGKILL at each point leaves (a replacement carrying the slot's labels, with or without the old
container) and check that the next apply converges, removes the leftover with its reason in the
log, and leaves exactly one container per slot. Before the fix the leftover was ignored and the
next recreate asked the engine for the same temporary name: 409 on every retry.
"""

from __future__ import annotations

import pytest
from helpers.harness import Harness

from controller.backends.docker.planner import replacement_name
from controller.models import CommandStatus

pytestmark = pytest.mark.engine

SLEEPER = {"command": ["sleep", "3600"], "init": True}


def _leftover(h: Harness, desired, *, name: str, old_id: str) -> str:
    """What a kill right after creating a recreate's replacement leaves: a created container
    with the slot's labels under the temporary name (the old recipe's name, without token)."""
    return h.engine.create_container(
        desired, service="web", number=1, name=name, image=desired.compose.services["web"].image,
        root=h.tmp, files_dir=h.tmp / "files", version="v2",
    )


@pytest.mark.parametrize("old_name_scheme", [False, True])
def test_leftover_replacement_beside_the_old_container(h, engine_janitor, test_images,
                                                       old_name_scheme):
    name = engine_janitor.project("wedge")
    v1 = h.stack(name, {"services": {"web": {"image": test_images.v1, **SLEEPER}}})
    assert h.apply(v1).command.status is CommandStatus.DONE
    old_id = h.containers(name)[f"{name}-web-1"]
    v2 = h.stack(name, {"services": {"web": {"image": test_images.v2, **SLEEPER}}})
    # The name the previous recipe used ({old[:12]}_{name}), or one of the current recipe.
    temp = (f"{old_id[:12]}_{name}-web-1" if old_name_scheme
            else replacement_name(f"{name}-web-1", old_id, "abc123"))
    leftover = _leftover(h, v2, name=temp, old_id=old_id)

    outcome = h.apply(v2)
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    [container] = h.engine.observe(name).containers
    assert container.name == f"{name}-web-1" and container.running
    assert container.id not in (old_id, leftover)
    logs = h.log_messages(outcome)
    assert any(f"remove {temp}" in m for m in logs), logs

    h.engine.calls.reset()
    assert h.reconcile(name).command.status is CommandStatus.DONE
    assert h.engine.calls.mutating == 0, h.engine.calls.counts


def test_leftover_replacement_after_the_old_one_was_removed(h, engine_janitor, test_images):
    name = engine_janitor.project("wedge")
    v1 = h.stack(name, {"services": {"web": {"image": test_images.v1, **SLEEPER}}})
    assert h.apply(v1).command.status is CommandStatus.DONE
    old_id = h.containers(name)[f"{name}-web-1"]
    v2 = h.stack(name, {"services": {"web": {"image": test_images.v2, **SLEEPER}}})
    temp = replacement_name(f"{name}-web-1", old_id, "def456")
    _leftover(h, v2, name=temp, old_id=old_id)
    h.engine.stop_and_remove(old_id)

    outcome = h.apply(v2)
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    [container] = h.engine.observe(name).containers
    assert container.name == f"{name}-web-1" and container.running


def test_a_name_held_by_our_unseen_leftover_is_freed(h, engine_janitor, test_images):
    """The slot's own name held by a container of this stack that the planner did not count
    for the slot (another number label): the create frees it instead of failing for ever."""
    name = engine_janitor.project("wedge")
    v0 = h.stack(name, {"services": {"other": {"image": test_images.v1, **SLEEPER}}})
    squatter = h.engine.create_container(
        v0, service="other", number=7, name=f"{name}-web-1", image=test_images.v1,
        root=h.tmp, files_dir=h.tmp / "files", version="v0",
    )
    outcome = h.apply(h.stack(name, {"services": {"web": {"image": test_images.v1, **SLEEPER}},
                                     }, prune=False))
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    [container] = h.engine.observe(name).containers
    assert container.name == f"{name}-web-1" and container.id != squatter
    assert any("leftover container of this stack holds the name" in m
               for m in h.log_messages(outcome))
