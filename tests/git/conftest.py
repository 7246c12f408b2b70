"""Fixtures of the repository-source tests: an origin repository with one pushed commit, a
state dir, and a fetcher factory. Servers are started by the tests that need them, with the
context managers of ``helpers.git_servers`` (each cleans up after itself)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.git_servers import Pusher, bare_repo

from controller.desired.repository_spec import RepositorySpec
from controller.sources.git.fetcher import Fetcher

COMPOSE_V1 = "services:\n  web:\n    image: busybox:1\n"


@pytest.fixture
def served(tmp_path: Path) -> Path:
    """The folder a server exports; repositories are created in it."""
    path = tmp_path / "served"
    path.mkdir()
    return path


@pytest.fixture
def origin(served: Path) -> Path:
    return bare_repo(served, "shop.git")


@pytest.fixture
def pusher(origin: Path, tmp_path: Path) -> Pusher:
    """A clone of ``origin`` that has pushed one commit holding ``stacks/web/compose.yaml``."""
    pusher = Pusher(origin, work=tmp_path / "work")
    pusher.write({"stacks/web/compose.yaml": COMPOSE_V1, "README.md": "shop\n"})
    pusher.commit("first", date="2024-05-01T12:00:00+02:00")
    pusher.push()
    return pusher


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def make_fetcher(state: Path) -> Callable[..., Fetcher]:
    """``make_fetcher(url=..., **spec_fields)``: a Fetcher on the test's state dir."""

    def make(*, url: str, timeout_s: float = 20.0, **fields: object) -> Fetcher:
        spec = RepositorySpec(name=str(fields.pop("name", "shop")), url=url, **fields)  # type: ignore[arg-type]
        return Fetcher(spec, state_dir=state, timeout_s=timeout_s)

    return make
