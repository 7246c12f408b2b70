"""Adoption, as a table: a Compose project's objects without our label (made by `docker
compose`) are refused, adopted on opt-in, or replaced when the stack is already stackctl's."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.stacks import desired_stack

from controller.backends.docker.planner import plan, teardown
from controller.models.observed import (
    ADOPT_REASON,
    ObservedContainer,
    ObservedNetwork,
    ObservedVolume,
    Snapshot,
)

IMG = "img:1"
IMG_ID = "sha256:" + "a" * 64
COMPOSE = {
    "services": {"web": {"image": IMG}, "db": {"image": IMG, "volumes": ["data:/data"]}},
    "volumes": {"data": {}},
}


def compose_made(name: str, service: str, number: int = 1) -> ObservedContainer:
    return ObservedContainer(
        id=f"compose-{name}", name=name, service=service, number=number,
        config_hash="compose's own hash", image_id=IMG_ID, state="running",
        networks=frozenset({"eco_default"}),
    )


def compose_project(*containers: ObservedContainer, ours=()) -> Snapshot:
    return Snapshot(
        stack="eco",
        containers=tuple(ours),
        images={IMG: IMG_ID},
        foreign_containers=containers,
        foreign_networks=(ObservedNetwork("n1", "eco_default", "default"),),
        foreign_volumes=(ObservedVolume("eco_data", "data"),),
    )


V1 = (compose_made("eco_db_1", "db"), compose_made("eco_web_1", "web"))
V2 = (compose_made("eco-db-1", "db"), compose_made("eco-web-1", "web"))


@pytest.mark.parametrize("containers", [V1, V2], ids=["compose v1 names", "compose v2 names"])
@pytest.mark.parametrize(
    ("opt_in", "refused"),
    [({}, True), ({"adopt": True}, False), ({"spec_adopt": True}, False)],
    ids=["no opt-in", "apply --adopt", "spec.adopt"],
)
def test_compose_project_is_refused_or_adopted(tmp_path: Path, containers, opt_in, refused):
    spec = {"adopt": True} if opt_in.get("spec_adopt") else {}
    desired = desired_stack(tmp_path, "eco", COMPOSE, **spec)
    p = plan(desired, compose_project(*containers), adopt=bool(opt_in.get("adopt")))
    if refused:
        assert len(p.problems) == 1
        problem = p.problems[0]
        for name in (*(c.name for c in containers), "eco_default", "eco_data"):
            assert name in problem
        assert "spec.adopt: true" in problem and "stackctl apply --adopt" in problem
    else:
        assert p.problems == ()
    # Either way the steps say what adopting does (diff shows them): one step per container,
    # networks and volumes taken over by name (never created a second time).
    assert [(s.kind.value, s.target, s.reason, s.container_id) for s in p.changes] == [
        ("recreate", "eco-db-1", ADOPT_REASON, containers[0].id),
        ("recreate", "eco-web-1", ADOPT_REASON, containers[1].id),
    ]


def test_compose_up_on_our_stack_is_put_back_one_step_per_container(tmp_path: Path):
    """`docker compose up` recreated our containers with its own labels: the stack is still
    ours (our network and volume are there), so no opt-in is needed."""
    desired = desired_stack(tmp_path, "eco", COMPOSE)
    observed = Snapshot(
        stack="eco",
        images={IMG: IMG_ID},
        networks=(ObservedNetwork("n1", "eco_default", "default"),),
        volumes=(ObservedVolume("eco_data", "data"),),
        foreign_containers=V1,
    )
    p = plan(desired, observed)
    assert p.problems == ()
    assert [(s.kind.value, s.target, s.reason) for s in p.changes] == [
        ("recreate", "eco-db-1", ADOPT_REASON),
        ("recreate", "eco-web-1", ADOPT_REASON),
    ]


def test_surplus_and_dropped_compose_containers_are_removed(tmp_path: Path):
    desired = desired_stack(tmp_path, "eco", COMPOSE, adopt=True)
    extra = (
        compose_made("eco_web_2", "web", 2),
        compose_made("eco_cache_1", "cache"),
    )
    p = plan(desired, compose_project(*V1, *extra))
    assert [(s.kind.value, s.target, s.reason) for s in p.changes] == [
        ("recreate", "eco-db-1", ADOPT_REASON),
        ("remove", "eco_web_2", f"{ADOPT_REASON}; slot 2 is not wanted"),
        ("recreate", "eco-web-1", ADOPT_REASON),
        ("remove", "eco_cache_1", f"{ADOPT_REASON}; service no longer in the spec (prune)"),
    ]


def test_compose_container_beside_ours_in_a_slot_is_removed(tmp_path: Path):
    desired = desired_stack(tmp_path, "eco", {"services": {"web": {"image": IMG}}})
    ours = ObservedContainer(
        id="ours", name="eco-web-1", service="web", number=1,
        config_hash=desired.service_hashes["web"], image_id=IMG_ID, state="running",
        networks=frozenset({"eco_default"}),
    )
    observed = Snapshot(
        stack="eco", containers=(ours,), images={IMG: IMG_ID},
        networks=(ObservedNetwork("n", "eco_default", "default"),),
        foreign_containers=(compose_made("eco_web_1", "web"),),
    )
    p = plan(desired, observed)
    assert [(s.kind.value, s.target, s.reason) for s in p.changes] == [
        ("remove", "eco_web_1", f"{ADOPT_REASON}; slot 1 is taken"),
    ]


def test_only_compose_networks_and_volumes_are_taken_over_not_created(tmp_path: Path):
    desired = desired_stack(tmp_path, "eco", COMPOSE)
    observed = compose_project()
    refused = plan(desired, observed)
    assert "networks eco_default; volumes eco_data" in refused.problems[0]
    adopted = plan(desired, observed, adopt=True)
    assert adopted.problems == ()
    assert [s.kind.value for s in adopted.changes] == ["create", "create"]


@pytest.mark.parametrize(
    ("foreign_containers", "removed"),
    [((), ["eco_default", "eco_data"]), (V1, [])],
    ids=["adopted: they go with the stack", "compose still there: left alone"],
)
def test_teardown_takes_adopted_networks_and_volumes(foreign_containers, removed):
    observed = compose_project(*foreign_containers)
    p = teardown(observed, remove_volumes=True)
    assert [s.target for s in p.steps if s.kind.value != "remove"] == removed
    assert all(s.container_id is None or not s.container_id.startswith("compose-")
               for s in p.steps)


def test_adopt_is_digested_only_when_on(tmp_path: Path):
    plain = desired_stack(tmp_path / "a", "eco", COMPOSE)
    adopting = desired_stack(tmp_path / "b", "eco", COMPOSE, adopt=True)
    assert "adopt" not in plain.canonical_data()
    assert adopting.canonical_data()["adopt"] is True
    assert plain.digest != adopting.digest


def test_teardown_removes_every_container_of_the_project_and_nothing_placed_by_name():
    """A delete removes the containers carrying the project's label without ours (what
    `docker compose up`/`run` made); one placed only by its name (no project label) stays, so
    the networks and volumes Compose may still use stay too."""
    recreated = compose_made("eco-web-1", "web")
    oneoff = compose_made("eco-web-run-1a2b", "web")
    by_name = compose_made("eco_db_1", "db")
    ours = ObservedContainer(
        id="ours-db", name="eco-db-1", service="db", number=1, config_hash="h",
        image_id=IMG_ID, state="running",
    )
    labelled = Snapshot(
        stack="eco", containers=(ours,), networks=(ObservedNetwork("n", "eco_default", "default"),),
        foreign_containers=(recreated,), project_containers=(oneoff, recreated),
    )
    p = teardown(labelled, order=[["db"], ["web"]])
    assert [(s.kind.value, s.target) for s in p.steps] == [
        ("remove", "eco-web-1"), ("remove", "eco-web-run-1a2b"), ("remove", "eco-db-1"),
        ("remove_network", "eco_default"),
    ]
    placed = Snapshot(
        stack="eco", containers=(ours,), foreign_containers=(by_name,),
        foreign_networks=(ObservedNetwork("n", "eco_default", "default"),),
    )
    assert [s.target for s in teardown(placed).steps] == ["eco-db-1"]
    never_ours = Snapshot(
        stack="eco", foreign_containers=(recreated,), project_containers=(recreated,),
        foreign_networks=(ObservedNetwork("n", "eco_default", "default"),),
    )
    assert teardown(never_ours).steps == ()  # Compose's project, never given to stackctl
