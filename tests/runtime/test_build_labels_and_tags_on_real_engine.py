"""``build.labels`` and ``build.tags`` (carried since the Compose v2 oracle found them refused):
the built image has the labels, and every tag names the same image, as ``docker compose build``
gives them. Real engine."""

from __future__ import annotations

import pytest
import yaml

from controller.models import CommandStatus
from controller.sources.loader import load_path

pytestmark = pytest.mark.engine


def test_built_image_has_the_labels_and_every_tag(
    h, engine_janitor, test_images, tmp_path, docker_client
):
    name = engine_janitor.project("tags")
    folder = tmp_path / "tagged"
    folder.mkdir()
    tags = [f"{name}-extra:1", f"stackctl-test/{name}-other:v2"]
    build = {
        "context": ".",
        "dockerfile_inline": f"FROM {test_images.v1}\n",
        "labels": {"org.example.kind": "test"},
        "tags": tags,
    }
    service = {"build": build, "image": f"{name}-app:dev", "command": ["sleep", "3600"]}
    (folder / "compose.yaml").write_text(
        yaml.safe_dump({"name": name, "services": {"app": {**service, "init": True}}})
    )
    [desired] = load_path(folder).stacks.values()
    try:
        outcome = h.apply(desired, root=folder)
        assert outcome.command.status is CommandStatus.DONE, outcome.error
        image = docker_client.images.get(f"{name}-app:dev")
        assert image.labels["org.example.kind"] == "test"
        assert {docker_client.images.get(tag).id for tag in tags} == {image.id}
    finally:
        h.delete(name)
        for ref in (f"{name}-app:dev", *tags):
            docker_client.images.remove(ref, force=True)
