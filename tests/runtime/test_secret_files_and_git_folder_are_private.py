"""Secrets at rest (issue 24, item 13): the plaintext secret files written for containers are
0400 in a 0700 folder, and the repositories' ``git/`` folder is 0700, whatever the umask and
the parent folder's mode (here 0777 and a umask of 0, the worst case)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.git_servers import Pusher, bare_repo
from helpers.stacks import desired_stack

from controller.backends.shared.private_files import write_files
from controller.desired.repository_spec import RepositorySpec
from controller.sources.git.fetcher import Fetcher


@pytest.fixture
def open_parent(tmp_path: Path) -> Iterator[Path]:
    parent = tmp_path / "state"
    parent.mkdir()
    parent.chmod(0o777)
    old = os.umask(0)
    try:
        yield parent
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_secret_files_are_0400_in_a_0700_folder(open_parent: Path, tmp_path: Path) -> None:
    folder = tmp_path / "src" / "manifests-vault"  # where desired_stack writes the manifest
    folder.mkdir(parents=True)
    (folder / "db_password.txt").write_text("hunter2")
    (folder / "app.conf").write_text("listen 80")
    compose = {
        "services": {
            "web": {"image": "busybox:1", "secrets": ["db"], "configs": ["conf"]},
        },
        "secrets": {"db": {"file": "db_password.txt"}},
        "configs": {"conf": {"file": "app.conf"}},
    }
    desired = desired_stack(tmp_path / "src", "vault", compose)
    files = open_parent / "files"
    write_files(desired, "web", files_dir=files)
    secret = desired.compose.services["web"].secrets[0]
    config = desired.compose.services["web"].configs[0]
    assert mode(files) == 0o700
    assert mode(files / str(secret.sha256)) == 0o400
    assert (files / str(secret.sha256)).read_text() == "hunter2"
    assert mode(files / str(config.sha256)) == 0o444  # a config is no secret
    assert [p.name for p in files.iterdir() if ".tmp" in p.name] == []
    # A secret written before (0444) is made private the next time it is used.
    (files / str(secret.sha256)).chmod(0o444)
    files.chmod(0o755)
    write_files(desired, "web", files_dir=files)
    assert mode(files / str(secret.sha256)) == 0o400 and mode(files) == 0o700


def test_the_git_folder_is_0700(open_parent: Path, tmp_path: Path) -> None:
    origin = bare_repo(tmp_path, "shop.git")
    pusher = Pusher(origin, work=tmp_path / "work").write({"compose.yaml": "services: {}\n"})
    pusher.commit("first")
    pusher.push()
    git = open_parent / "git"
    Fetcher(RepositorySpec(name="shop", url=str(origin)), state_dir=git).fetch()
    assert mode(git) == 0o700
    assert mode(git / "shop") == 0o700
