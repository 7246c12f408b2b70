"""Which hash decides, as a table (pure planner; the engine tests are
tests/runtime/test_compose_v2_and_stackctl_share_a_project.py).

stackctl's containers carry two hashes: Compose v2's (``com.docker.compose.config-hash``, so
that ``docker compose up`` finds them current) and stackctl's (``io.stackctl.config-hash``,
which the planner compares). A container made before the second label existed carries
stackctl's hash in Compose's label. A container ``docker compose`` made in one of the stack's
slots is compared by Compose's hash: the same hash means the same definitions, so it stays.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from helpers.stacks import desired_stack

from controller.backends.docker.planner import plan
from controller.desired.compose_hash import compose_config_hash
from controller.models.observed import ADOPT_REASON, ContainerConfig, ObservedContainer, Snapshot

IMG = "img:1"
IMG_ID = "sha256:" + "a" * 64
COMPOSE = {"services": {"web": {"image": IMG, "environment": {"A": "1"}}}}
VIEW = {
    "command": None,
    "entrypoint": None,
    "environment": {"A": "1"},
    "image": IMG,
    "networks": {"default": None},
}


def stack(tmp_path: Path, env: str = "1", *, views: bool = True):
    compose = {"services": {"web": {"image": IMG, "environment": {"A": env}}}}
    desired = desired_stack(tmp_path, "eco", compose)
    view = {**VIEW, "environment": {"A": env}}
    return desired.model_copy(update={"compose_views": {"web": view} if views else {}})


def container(*, config_hash: str, own_hash: str = "", managed: bool = True) -> ObservedContainer:
    return ObservedContainer(
        id="c1", name="eco-web-1", service="web", number=1, config_hash=config_hash,
        image_id=IMG_ID, state="running", networks=frozenset({"eco_default"}),
        managed=managed, own_hash=own_hash,
    )  # fmt: skip


def steps(desired, observed_container, previous=None) -> list[str]:
    snapshot = Snapshot(stack="eco", containers=(observed_container,), images={IMG: IMG_ID})
    p = plan(desired, snapshot, previous=previous, adopt=True)
    return [f"{s.kind.value} {s.target}: {s.reason}" for s in p.steps if s.target == "eco-web-1"]


def test_the_compose_hash_is_composes_own(tmp_path: Path) -> None:
    desired = stack(tmp_path)
    want = compose_config_hash(VIEW, base=Path("/"))
    # What Compose v2.40.3 hashes for `image: img:1` + one variable (compact, Go's field order).
    assert desired.compose_hashes == {"web": want}
    assert want != desired.service_hashes["web"]


@pytest.mark.parametrize(
    ("case", "make", "recreated"),
    [
        (
            "ours, both labels current",
            lambda d: container(
                config_hash=d.compose_hashes["web"], own_hash=d.service_hashes["web"]
            ),
            False,
        ),
        (
            "ours, Compose's label stale, ours current",
            lambda d: container(config_hash="old form", own_hash=d.service_hashes["web"]),
            False,
        ),
        (
            "ours, our label differs",
            lambda d: container(config_hash=d.compose_hashes["web"], own_hash="other"),
            True,
        ),
        (
            "ours from before the label: our hash in Compose's",
            lambda d: container(config_hash=d.service_hashes["web"]),
            False,
        ),
        ("ours from before the label, differing", lambda d: container(config_hash="x"), True),
        (
            "Compose's, same definitions",
            lambda d: container(config_hash=d.compose_hashes["web"], managed=False),
            False,
        ),
        (
            "Compose's, other definitions",
            lambda d: container(config_hash="y" * 64, managed=False),
            True,
        ),
    ],
)
def test_which_hash_decides(tmp_path: Path, case: str, make, recreated: bool) -> None:
    desired = stack(tmp_path)
    found = steps(desired, make(desired))
    assert bool(found) == recreated, (case, found)
    if recreated and "Compose's" in case:
        assert found[0].startswith(f"recreate eco-web-1: {ADOPT_REASON}; its configuration differs")


def test_a_change_over_what_compose_made_names_the_field(tmp_path: Path) -> None:
    before, after = stack(tmp_path, "1"), stack(tmp_path, "2")
    made = container(config_hash=before.compose_hashes["web"], managed=False)
    assert steps(after, made, previous=before) == [
        f"recreate eco-web-1: {ADOPT_REASON}; environment A changed"
    ]


def test_without_a_compose_view_a_compose_made_container_is_replaced(tmp_path: Path) -> None:
    desired = stack(tmp_path, views=False)
    assert desired.compose_hashes == {}
    made = container(config_hash="anything", managed=False)
    assert steps(desired, made) == [
        f"recreate eco-web-1: {ADOPT_REASON}; its configuration cannot be compared with"
        " Compose's (no Compose view)"
    ]


def test_secrets_are_stackctls_copies_so_composes_container_is_replaced(
    tmp_path: Path,
) -> None:
    (tmp_path / "manifests-eco").mkdir()
    (tmp_path / "manifests-eco" / "s.txt").write_text("x")
    compose = {
        "services": {"web": {"image": IMG, "secrets": ["s"]}},
        "secrets": {"s": {"file": "./s.txt"}},
    }
    desired = desired_stack(tmp_path, "eco", compose)
    desired = desired.model_copy(
        update={"compose_views": {"web": {**VIEW, "secrets": [{"source": "s"}]}}}
    )
    made = container(config_hash=desired.compose_hashes["web"], managed=False)
    assert steps(desired, made) == [
        f"recreate eco-web-1: {ADOPT_REASON}; stackctl mounts its own copies of the service's"
        " secrets and configs"
    ]


def test_a_compose_made_container_differing_names_what_its_config_shows(tmp_path: Path) -> None:
    """No version of what Compose ran: the fields are read off the inspected container (only
    what the service sets: the image's own variables and labels are in the container too)."""
    desired = stack(tmp_path, "2")
    config = ContainerConfig(
        image=IMG,
        env=(("A", "1"), ("PATH", "/bin")),
        labels=(("com.docker.compose.service", "web"),),
    )
    made = replace(container(config_hash="z" * 64, managed=False), config=config)
    assert steps(desired, made) == [f"recreate eco-web-1: {ADOPT_REASON}; environment A changed"]
    same = replace(made, config=replace(config, env=(("A", "2"), ("PATH", "/bin"))))
    assert steps(desired, same) == [
        f"recreate eco-web-1: {ADOPT_REASON}; its configuration differs"
        f" (Compose hash {'z' * 12} -> {desired.compose_hashes['web'][:12]})"
    ]
