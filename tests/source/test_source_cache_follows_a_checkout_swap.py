"""A repository's root is ``current/<path>``, a symlink switched to a new checkout folder at
every commit. The load cache moves what it knows to the new folder: files that hold the same
bytes there are not loaded again, and the result is the one an uncached load gives."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from controller.sources.loader import LoadCache, load_root

STACK = "services:\n  web:\n    image: img:{n}\n"
MANIFEST = """\
apiVersion: stackctl/v1
kind: Stack
metadata: {{name: shop}}
spec:
  composeFile: shop/compose.yaml
  env: {{TAG: "{tag}"}}
"""


def _checkout(base: Path, sha: str, files: dict[str, str]) -> Path:
    folder = base / "checkouts" / sha
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def _switch(base: Path, folder: Path) -> None:
    link = base / "current.tmp"
    link.symlink_to(folder.relative_to(base))
    os.replace(link, base / "current")


def _summary(result) -> dict:
    return {
        "stacks": {name: stack.digest for name, stack in result.stacks.items()},
        "sources": {
            source: (report.names, [e.render() for e in report.errors])
            for source, report in result.sources.items()
        },
    }


def test_only_what_the_commit_changed_is_loaded_again(tmp_path: Path) -> None:
    files = {f"stacks/s{n}.yaml": STACK.format(n=n) for n in range(20)}
    files["stacks/shop.yaml"] = MANIFEST.format(tag="1")
    files["stacks/shop/compose.yaml"] = "services:\n  api:\n    image: shop:${TAG}\n"
    first = _checkout(tmp_path, "a" * 40, files)
    _switch(tmp_path, first)
    root = tmp_path / "current" / "stacks"
    cache: LoadCache = LoadCache()
    load_root(root, cache=cache)
    assert cache.misses == 22 and cache.hits == 0  # 20 stacks, shop.yaml, the shop folder

    files = dict(files)
    files["stacks/s3.yaml"] = STACK.format(n="changed")
    del files["stacks/s4.yaml"]
    files["stacks/s99.yaml"] = STACK.format(n=99)
    second = _checkout(tmp_path, "b" * 40, files)
    _switch(tmp_path, second)
    shutil.rmtree(first)  # the old checkout is removed after the switch, as the fetcher does

    cached = load_root(root, cache=cache)
    # s3 and s99 loaded, and the shop folder (not a source of its own: nothing cached to move)
    assert (cache.hits, cache.misses) == (19, 22 + 3)
    assert _summary(cached) == _summary(load_root(root))
    assert set(cached.stacks) == {f"s{n}" for n in range(20) if n != 4} | {"s99", "shop"}


def test_a_referenced_file_that_changed_loads_its_manifest_again(tmp_path: Path) -> None:
    files = {
        "stacks/shop.yaml": MANIFEST.format(tag="1"),
        "stacks/shop/compose.yaml": "services:\n  api:\n    image: shop:${TAG}\n",
    }
    _switch(tmp_path, _checkout(tmp_path, "a" * 40, files))
    root = tmp_path / "current" / "stacks"
    cache: LoadCache = LoadCache()
    before = load_root(root, cache=cache).stacks["shop"].digest
    files["stacks/shop/compose.yaml"] = "services:\n  api:\n    image: shop2:${TAG}\n"
    _switch(tmp_path, _checkout(tmp_path, "b" * 40, files))
    after = load_root(root, cache=cache)
    assert after.stacks["shop"].digest != before
    assert _summary(after) == _summary(load_root(root))


def test_a_source_with_errors_is_loaded_again_after_a_swap(tmp_path: Path) -> None:
    files = {"stacks/bad.yaml": "services:\n  web:\n    image: [1]\n"}
    _switch(tmp_path, _checkout(tmp_path, "a" * 40, files))
    root = tmp_path / "current" / "stacks"
    cache: LoadCache = LoadCache()
    load_root(root, cache=cache)
    _switch(tmp_path, _checkout(tmp_path, "b" * 40, files))
    again = load_root(root, cache=cache)
    assert cache.hits == 0
    assert _summary(again) == _summary(load_root(root))
