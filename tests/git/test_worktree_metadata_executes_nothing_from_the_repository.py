"""Reading a version's commit runs nothing the repository configures (issue 9, item 12).

The watched directory may be a checkout of someone else's repository. ``git status`` ran its
``core.fsmonitor`` program and its clean filters; these tests plant both, with a marker file
each would create, and check that reading the metadata creates neither while still telling a
committed file from an edited one.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from controller.sources.git.worktree import git_metadata


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, Path]:
    root, marks = tmp_path / "repo", tmp_path / "marks"
    root.mkdir()
    marks.mkdir()
    git(root, "init", "-q")
    git(root, "config", "user.email", "ops@example.com")
    git(root, "config", "user.name", "Ops")
    (root / "shop.yaml").write_text("services: {web: {image: img:1}}\n")
    (root / "folder").mkdir()
    (root / "folder" / "compose.yaml").write_text("services: {web: {image: img:1}}\n")
    (root / "folder" / ".env").write_text("A=1\n")
    (root / ".gitignore").write_text("*.log\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "first")
    # Planted after the commit, as an attacker with write access to .git/config would.
    hook = tmp_path / "fsmonitor.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marks}/fsmonitor\n")
    hook.chmod(0o755)
    git(root, "config", "core.fsmonitor", str(hook))
    git(root, "config", "filter.evil.clean", f"touch {marks}/filter; cat")
    (root / ".git" / "info" / "attributes").write_text("* filter=evil\n")
    return root, marks


def test_clean_file_is_credited_to_its_commit(repo):
    root, marks = repo
    meta = git_metadata(root, "shop.yaml")
    assert meta["git_subject"] == "first" and len(meta["git_commit"]) == 40
    assert meta["git_author"] == "Ops <ops@example.com>"
    assert list(marks.iterdir()) == []


def test_edited_file_says_so_and_nothing_runs(repo):
    root, marks = repo
    (root / "shop.yaml").write_text("services: {web: {image: img:2}}\n")
    assert git_metadata(root, "shop.yaml")["git_subject"] == "(uncommitted changes on top of) first"
    assert list(marks.iterdir()) == []


@pytest.mark.parametrize("change", ["edit", "new", "gone", "ignored"])
def test_folder_stack(repo, change):
    root, marks = repo
    folder = root / "folder"
    if change == "edit":
        (folder / ".env").write_text("A=2\n")
    elif change == "new":
        (folder / "extra.env").write_text("B=1\n")
    elif change == "gone":
        (folder / ".env").unlink()
    else:
        (folder / "debug.log").write_text("noise\n")
    subject = git_metadata(root, "folder")["git_subject"]
    assert subject == ("first" if change == "ignored" else "(uncommitted changes on top of) first")
    assert list(marks.iterdir()) == []


def test_outside_a_work_tree_there_is_no_commit(tmp_path):
    (tmp_path / "shop.yaml").write_text("services: {}\n")
    assert git_metadata(tmp_path, "shop.yaml") == {}
