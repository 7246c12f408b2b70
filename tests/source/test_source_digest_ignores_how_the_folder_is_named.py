"""One folder, one digest: however the folder is named (relative, ``./``, absolute, by its
compose file, as ``.`` from inside, or found in a watched root), the stack's digest is the
same, because stored host paths are relative to the source's own folder (issue 12, item 4).
The absolute paths the runtime needs come back from the source folder (``DesiredStack.base``
under the root), whichever way it was named."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from controller.desired import context_path, host_path
from controller.sources.loader import LoadResult, load_path, load_root

COMPOSE = """\
services:
  web:
    image: stackctl-test/busybox:1
    pull_policy: never
    volumes: ["./data:/data", "../shared:/shared:ro"]
    env_file: [app.env]
    secrets: [token]
    build: ./web
secrets:
  token: {file: ./token.txt}
"""


@pytest.fixture()
def manifests(tmp_path: Path) -> Path:
    root = tmp_path / "manifests"
    folder = root / "eco1"
    (folder / "data").mkdir(parents=True)
    (folder / "web").mkdir()
    (folder / "web" / "Dockerfile").write_text("FROM scratch\n")
    (root / "shared").mkdir()
    (folder / "compose.yaml").write_text(COMPOSE)
    (folder / "app.env").write_text("A=1\n")
    (folder / "token.txt").write_text("s3cret\n")
    return root


def _in(folder: Path, load: Callable[[], LoadResult]) -> LoadResult:
    before = os.getcwd()
    os.chdir(folder)
    try:
        return load()
    finally:
        os.chdir(before)


NAMINGS = {
    "relative": lambda root: _in(root, lambda: load_path(Path("eco1"), root=Path("."))),
    "dot-slash": lambda root: _in(root, lambda: load_path(Path("./eco1"), root=Path("."))),
    "absolute": lambda root: load_path(root / "eco1", root=root),
    "compose file": lambda root: _in(
        root, lambda: load_path(Path("eco1/compose.yaml"), root=Path("."))
    ),
    "dot from inside": lambda root: _in(
        root / "eco1", lambda: load_path(Path("."), root=Path(".."))
    ),
    "watched root": lambda root: load_root(root),
    "watched root, relative": lambda root: _in(root.parent, lambda: load_root(Path("manifests"))),
}


def test_every_naming_of_a_folder_gives_one_digest(manifests: Path) -> None:
    digests = {}
    for naming, load in NAMINGS.items():
        result = load(manifests)
        assert "eco1" in result.stacks, (naming, result.errors)
        stack = result.stacks["eco1"]
        digests[naming] = stack.digest
        base = Path(os.path.abspath(result.root)) / stack.base
        web = stack.compose.services["web"]
        sources = {m.target: host_path(base, m) for m in web.volumes}
        assert sources["/data"].resolve() == (manifests / "eco1" / "data").resolve(), naming
        assert sources["/shared"].resolve() == (manifests / "shared").resolve(), naming
        assert web.build is not None
        assert Path(context_path(base, web.build)).resolve() == (manifests / "eco1" / "web")
    assert len(set(digests.values())) == 1, digests


def test_the_folder_alone_gives_the_digest_it_has_in_its_root(tmp_path: Path) -> None:
    """Without a reference outside the folder, the folder can even be its own root."""
    folder = tmp_path / "manifests" / "eco1"
    (folder / "data").mkdir(parents=True)
    (folder / "compose.yaml").write_text(
        "services:\n  web:\n    image: stackctl-test/busybox:1\n"
        "    volumes: ['./data:/data']\n    env_file: [app.env]\n"
    )
    (folder / "app.env").write_text("A=1\n")
    alone = load_path(folder).stacks["eco1"]
    in_root = load_root(tmp_path / "manifests").stacks["eco1"]
    assert alone.digest == in_root.digest
    assert (alone.base, in_root.base) == (".", "eco1")
    mount = alone.compose.services["web"].volumes[0]
    assert mount.source == "data" and mount.root_relative


def test_a_manifest_file_keeps_paths_relative_to_its_folder(tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "compose.yaml").write_text(
        "services:\n  web:\n    image: stackctl-test/busybox:1\n    volumes: ['./www:/www']\n"
    )
    (tmp_path / "shop" / "www").mkdir()
    (tmp_path / "shop.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Stack\nmetadata: {name: shop}\n"
        "spec: {composeFile: shop/compose.yaml}\n"
    )
    by_root = load_root(tmp_path).stacks["shop"]
    by_file = load_path(tmp_path / "shop.yaml").stacks["shop"]
    assert by_root.digest == by_file.digest and by_root.base == "."
    assert by_root.compose.services["web"].volumes[0].source == "shop/www"
