"""The checker's pure rules, as tables: which services follow a tag, how a digest is pinned
and carried, and which local digests belong to a repository."""

from __future__ import annotations

import pytest
from helpers.stacks import desired_stack

from controller.delivery.image_updates import familiar, followed_images, running_digests, short
from controller.models import StackMetadata, StackVersion
from controller.sources.pins import CREATED_BY, carry_pins, checker_pins, pin_digests
from controller.sources.versions import to_compose_definition

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def _stack(tmp_path, services, name="s"):
    folder = tmp_path / f"manifests-{name}"  # where desired_stack writes the manifest
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Dockerfile").write_text("FROM scratch\n")  # for the build: services
    return desired_stack(tmp_path, name, {"services": services})


@pytest.mark.parametrize(
    ("service", "own_pins", "followed"),
    [
        ({"image": "127.0.0.1:5000/app:1"}, False, "127.0.0.1:5000/app:1"),
        ({"image": "127.0.0.1:5000/app"}, False, "127.0.0.1:5000/app:latest"),
        ({"image": "nginx:1.27"}, False, "nginx:1.27"),
        ({"image": f"127.0.0.1:5000/app@{D1}"}, False, None),  # pinned in the files
        ({"image": f"127.0.0.1:5000/app:1@{D1}"}, False, None),  # pinned in the files
        ({"image": f"127.0.0.1:5000/app:1@{D1}"}, True, "127.0.0.1:5000/app:1"),  # our pin
        ({"image": f"127.0.0.1:5000/app@{D1}"}, True, None),  # no tag to follow
        ({"build": {"context": "."}}, False, None),
        ({"image": "127.0.0.1:5000/app:1", "build": {"context": "."}}, False, None),
    ],
)
def test_which_services_follow_their_tag(tmp_path, service, own_pins, followed):
    desired = _stack(tmp_path, {"web": service})
    pins = {service.get("image")} if own_pins else {f"127.0.0.1:5000/app:1@{D2}"}
    found = followed_images(desired, own_pins=pins)
    assert (found["web"].tag_ref if "web" in found else None) == followed


def test_pinning_keeps_the_tag_and_changes_only_the_named_services(tmp_path):
    desired = _stack(
        tmp_path, {"web": {"image": "127.0.0.1:5000/app:1"}, "db": {"image": "127.0.0.1:5000/db"}}
    )
    pinned = pin_digests(desired, {"web": D2})
    assert pinned.compose.services["web"].image == f"127.0.0.1:5000/app:1@{D2}"
    assert pinned.compose.services["db"].image == "127.0.0.1:5000/db"
    assert pinned.digest != desired.digest
    assert pinned.service_hashes["db"] == desired.service_hashes["db"]
    assert pinned.service_hashes["web"] != desired.service_hashes["web"]
    # Pinning an own pin again replaces its digest.
    assert pin_digests(pinned, {"web": D1}).compose.services["web"].image.endswith(D1)
    assert pin_digests(desired, {"db": D1}).compose.services["db"].image == (
        f"127.0.0.1:5000/db:latest@{D1}"
    )


@pytest.mark.parametrize(
    ("before", "own_pins", "after", "expected"),
    [
        (f"r/app:1@{D1}", True, "r/app:1", f"r/app:1@{D1}"),  # tag unchanged: pin kept
        (f"r/app:1@{D1}", True, "r/app:2", "r/app:2"),  # the files moved to another tag
        (f"r/app:1@{D1}", False, "r/app:1", "r/app:1"),  # the files' pin, removed by the files
        (f"r/app:latest@{D1}", True, "r/app", f"r/app:latest@{D1}"),
        (f"r/app:1@{D1}", True, f"r/app:1@{D2}", f"r/app:1@{D2}"),  # the files pin: they win
    ],
)
def test_carrying_pins_across_a_file_change(tmp_path, before, own_pins, after, expected):
    previous = _stack(tmp_path / "a", {"web": {"image": before}})
    new = _stack(tmp_path / "b", {"web": {"image": after}})
    carried = carry_pins(previous, new, own_pins={before} if own_pins else set())
    assert carried.compose.services["web"].image == expected


def test_running_digests_match_the_repository_in_its_familiar_form():
    repo_digests = (f"127.0.0.1:5000/app@{D1}", f"127.0.0.1:5000/other@{D2}", f"nginx@{D2}")
    assert running_digests(repo_digests, "127.0.0.1:5000/app") == {D1}
    assert running_digests(repo_digests, "docker.io/library/nginx") == {D2}
    assert running_digests(repo_digests, "127.0.0.1:5001/app") == set()
    assert familiar("docker.io/team/app") == "team/app"
    assert short(D1) == "sha256:111111111111…"


def test_the_checker_knows_its_pins_from_the_versions_it_recorded(tmp_path):
    def version(number: int, image: str, created_by: str) -> StackVersion:
        desired = _stack(tmp_path / str(number), {"web": {"image": image}})
        return StackVersion(
            stack_id="s",
            digest=desired.digest,
            metadata=StackMetadata(created_by=created_by),
            compose=to_compose_definition(desired),
        )

    versions = [
        version(1, "r/app:1", "stackctl watcher"),
        version(2, f"r/app:1@{D1}", CREATED_BY),
        version(3, f"r/app:1@{D2}", "stackctl watcher"),  # written in the files
        version(4, f"r/app:1@{D1}", "stackctl rollback"),  # a copy: its pin is still ours
    ]
    assert checker_pins(versions) == {f"r/app:1@{D1}"}
