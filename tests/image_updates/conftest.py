"""The tests of this folder get ``h`` (a harness: database, real engine, worker) and
``app``: a repository of the test's registry holding the test's own image under ``:1``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers.harness import Harness, make_harness


@pytest.fixture
def h(tmp_path: Path, engine_janitor: Any) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    yield harness
    harness.db.close()


@dataclass
class App:
    """``<registry>/<prefix>/app``: ``old`` pushed as ``:1`` (digest ``old_digest``)."""

    images: Any  # helpers.registry.RegistryImages
    repo: str
    old: str
    old_digest: str

    @property
    def tag(self) -> str:
        return f"{self.repo}:1"

    def publish_new(self, base: str) -> tuple[str, str]:
        """Push a new image as ``:1`` from elsewhere: the registry's tag moves, this engine
        keeps ``:1`` on the old image and loses every trace of the new one (as on a host
        that never pulled it). Returns the new image's id and digest."""
        new = self.images.make(base, "new")
        digest = self.images.push(new, "app:1")
        self.images.client.api.tag(self.old, self.repo, tag="1")
        self.images.client.api.remove_image(new, force=True)
        return new, digest


@pytest.fixture
def app(registry_images: Any, test_images: Any) -> App:
    old = registry_images.make(test_images.v1, "old")
    digest = registry_images.push(old, "app:1")
    return App(registry_images, registry_images.repo("app"), old, digest)
