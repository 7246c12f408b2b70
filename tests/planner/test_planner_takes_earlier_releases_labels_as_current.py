"""A container labelled by an earlier release for the same service is current (issue 26, item 6).

0.1.0 (105c5cb) hashed a folder stack's services with its env files, bind sources and build
context relative to the watched root; today's model has them relative to the stack's folder, so
today's hash differs for the same service. The planner takes those labels
(``controller.desired.legacy_hashes``) as current: upgrading recreates nothing. A label that no
release wrote for this service, or a changed image, still recreates.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from helpers import labels_0_1_0
from test_planner_table import IMG_ID, running, snapshot

from controller.backends.docker.planner import plan
from controller.desired.legacy_hashes import root_relative
from controller.models.observed import ObservedVolume, Snapshot
from controller.sources.loader import load_root


def _observed(stack, *, labels: dict[str, str], image_id: str = IMG_ID) -> Snapshot:
    """The stack's two containers as 0.1.0 left them: running, with these labels."""
    containers = [
        replace(running("web", stack, name), config_hash=label) for name, label in labels.items()
    ]
    found = snapshot("web", *containers, image_id=image_id)
    return replace(
        found,
        images={"stackctl-test/busybox:1": image_id},
        volumes=(ObservedVolume("web_data", "data"),),
    )


def _stack(tmp_path: Path):
    labels_0_1_0.write_folder(tmp_path)
    return load_root(tmp_path).stacks["web"]


def test_containers_labelled_by_0_1_0_are_in_sync(tmp_path: Path):
    stack = _stack(tmp_path)
    assert plan(stack, _observed(stack, labels=labels_0_1_0.LABELS)).changes == ()


def test_with_the_version_0_1_0_recorded_as_previous_nothing_changes_either(tmp_path: Path):
    """The upgrade's first apply: the previous version is 0.1.0's, its paths root-relative."""
    stack = _stack(tmp_path)
    services = {
        name: root_relative(service, base=stack.base)
        for name, service in stack.compose.services.items()
    }
    previous = stack.model_copy(
        update={"compose": stack.compose.model_copy(update={"services": services}), "base": "."}
    )
    assert previous.service_hashes == labels_0_1_0.LABELS  # what 0.1.0 stored and wrote
    observed = _observed(stack, labels=labels_0_1_0.LABELS)
    assert plan(stack, observed, previous=previous).changes == ()


def test_a_label_no_release_wrote_recreates(tmp_path: Path):
    stack = _stack(tmp_path)
    labels = {**labels_0_1_0.LABELS, "db": "0" * 64}
    steps = plan(stack, _observed(stack, labels=labels)).changes
    assert [(s.kind.value, s.target) for s in steps] == [("recreate", "web-db-1")]
    assert "configuration changed" in steps[0].reason


def test_a_moved_image_still_recreates(tmp_path: Path):
    stack = _stack(tmp_path)
    moved = "sha256:" + "b" * 64
    observed = _observed(stack, labels=labels_0_1_0.LABELS)
    steps = plan(stack, replace(observed, images={"stackctl-test/busybox:1": moved})).changes
    assert {s.kind.value for s in steps} == {"recreate"}
    assert all("image changed" in s.reason for s in steps)
