"""What one cold apply asks of the engine, pinned call by call on the memory engine (which
counts the calls ``Engine`` makes, ``tests/runtime/test_a_cold_apply_costs_a_fixed_number_of_
engine_calls_on_a_real_engine.py`` checks the same figures there), so that it cannot silently
grow: on a 2-core machine converging 1,000 new stacks, every call is engine CPU the engine's
own create+start does not pay (issue 27, goal 3). A one-service stack: the look the plan is
made on (its containers, by label and by name, its networks, volumes and image), the create
(the image id from that look) and the start, and the container inspected by name after (the
stack had none and the plan only created it: a lookup, where a list walks every container on
the engine); an unchanged re-apply looks once and changes nothing."""

from __future__ import annotations

from pathlib import Path

from helpers.harness import make_harness

from controller.backends.memory.engine import MemoryEngine
from controller.models import CommandStatus

ONE = {"image": "app:1", "command": ["sleep", "3600"], "network_mode": "none"}
LOOK = {"list_containers": 2, "list_networks": 1, "list_volumes": 1, "inspect_image": 1}


def harness(tmp_path: Path):
    engine = MemoryEngine()
    engine.pull("app:1")  # present, as the bench's image is
    h = make_harness(tmp_path, engine=engine)  # type: ignore[arg-type]
    engine.calls.reset()
    return engine, h


def counts(engine: MemoryEngine) -> dict[str, int]:
    return dict(engine.calls.counts)


def test_a_new_one_service_stack_costs_eight_calls(tmp_path: Path) -> None:
    engine, h = harness(tmp_path)
    outcome = h.apply(h.stack("one", {"services": {"app": ONE}}))
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    assert counts(engine) == {
        "list_containers": 2, "list_networks": 1, "list_volumes": 1, "inspect_image": 1,
        "create_container": 1, "start": 1, "inspect_container": 1}


def test_a_changed_stack_lists_its_containers_again(tmp_path: Path) -> None:
    engine, h = harness(tmp_path)
    assert h.apply(h.stack("one", {"services": {"app": ONE}})).command.status is CommandStatus.DONE
    engine.calls.reset()
    changed = {**ONE, "command": ["sleep", "7200"]}
    outcome = h.apply(h.stack("one", {"services": {"app": changed}}))
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    found = counts(engine)
    assert found["list_containers"] == 3  # by label and by name before, by label after
    assert "inspect_container" not in found  # the stack had a container: listed, not looked up
    assert (found["list_networks"], found["list_volumes"], found["inspect_image"]) == (1, 1, 1)


def test_an_unchanged_reapply_looks_once(tmp_path: Path) -> None:
    engine, h = harness(tmp_path)
    assert h.apply(h.stack("one", {"services": {"app": ONE}})).command.status is CommandStatus.DONE
    engine.calls.reset()
    again = h.reconcile("one")
    assert again.command.status is CommandStatus.DONE, again.error
    assert counts(engine) == LOOK  # the health judged on the look the plan was made on
    assert engine.calls.mutating == 0


def test_a_plan_that_makes_a_network_looks_at_the_networks_again(tmp_path: Path) -> None:
    engine, h = harness(tmp_path)
    app = {k: v for k, v in ONE.items() if k != "network_mode"}  # on the default network
    outcome = h.apply(h.stack("net", {"services": {"app": app}}))
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    found = counts(engine)
    assert found["create_network"] == 1
    # Looked up by name besides (Compose may have made it) before, at and after its create.
    assert (found["list_networks"], found["list_volumes"]) == (5, 4)
    assert found["inspect_image"] == 2  # the look after lists the images again too


def test_a_pulled_image_is_inspected_again_for_the_create(tmp_path: Path) -> None:
    engine = MemoryEngine()
    h = make_harness(tmp_path, engine=engine)  # type: ignore[arg-type]
    outcome = h.apply(h.stack("pulled", {"services": {"app": ONE}}))  # app:1 is absent: pulled
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    assert counts(engine)["pull"] == 1
    # The look before (absent), the create's (the id the pull gave), the look after.
    assert counts(engine)["inspect_image"] == 3
    [container] = engine.observe("pulled").containers
    assert container.image_id == engine.state.images["app:1"]
