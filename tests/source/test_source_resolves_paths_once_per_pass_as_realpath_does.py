"""Within one walk of a root, a path is resolved from its folder's cached resolved form
(``files.one_pass``); the answer must be ``os.path.realpath``'s for every kind of symlink
(issue 13, item 4)."""

from __future__ import annotations

import os
from pathlib import Path

from controller.sources.loader.root import one_pass, realpath


def symlink_zoo(root: Path) -> list[str]:
    """Folders and files reached through absolute, relative, chained, dangling and looping
    links, and the paths to ask about them."""
    (root / "real" / "sub").mkdir(parents=True)
    (root / "real" / "sub" / "file").write_text("x")
    (root / "real" / "file").write_text("x")
    links = {
        "abs": str(root / "real"),
        "rel": "real",
        "chain": "rel",
        "up": "real/sub/..",
        "dangling": "nowhere/at/all",
        "loop1": "loop2",
        "loop2": "loop1",
        "self": "self",
        "real/sub/back": "../..",
        "real/sub/to_file": "../file",
        "real/sub/abs_file": str(root / "real" / "file"),
    }
    for name, target in links.items():
        os.symlink(target, root / name)
    tails = ["", "sub", "sub/file", "file", "missing", "missing/deeper", "sub/back/real/file"]
    tails += ["sub/to_file", "sub/abs_file", "sub/..", "sub/../file", "sub/back/abs/sub"]
    heads = ["real", "abs", "rel", "chain", "up", "dangling", "loop1", "self", "nothing"]
    asked = [
        str(root / head / tail) if tail else str(root / head) for head in heads for tail in tails
    ]
    return [*asked, str(root), str(root / "real" / "sub" / "back" / "loop2" / "x"), "/"]


def test_cached_resolution_is_realpaths(tmp_path: Path) -> None:
    asked = symlink_zoo(tmp_path)
    expected = {path: os.path.realpath(path) for path in asked}
    with one_pass():
        first = {path: realpath(path) for path in asked}
        again = {path: realpath(Path(path)) for path in reversed(asked)}
    assert first == expected
    assert again == expected


def test_outside_a_pass_nothing_is_kept(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    link = tmp_path / "link"
    link.symlink_to("a")
    assert realpath(link / "f") == str(tmp_path / "a" / "f")
    link.unlink()
    link.symlink_to("b")
    assert realpath(link / "f") == str(tmp_path / "b" / "f")
