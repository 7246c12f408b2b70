"""A small push that would check out big (issue 24, item 14): a compressible file, or many
files, over the checkout caps is a failed fetch naming the cap and the figure; nothing is
checked out, applied or deleted, and the repository's state says why, as for any fetch error.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.git_servers import GitDaemon, Pusher

from controller.db import Database
from controller.desired.repository_spec import RepositorySpec
from controller.sources.git.fetcher import Fetcher
from controller.sources.git.sizing import CheckoutLimits, CheckoutTooBig
from controller.sources.puller import Puller

MIB = 1024 * 1024


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_compressible_big_file_over_the_byte_cap_is_not_checked_out(
    origin: Path, pusher: Pusher, state: Path, tmp_path: Path
) -> None:
    with GitDaemon(origin.parent, tmp=tmp_path) as daemon:
        spec = RepositorySpec(name="shop", url=daemon.url(origin.name), path="stacks")
        fetcher = Fetcher(spec, state_dir=state, limits=CheckoutLimits(max_bytes=2 * MIB))
        good = fetcher.fetch()
        before = snapshot(state / "shop" / "checkouts")
        pusher.write({"stacks/web/zeros.bin": b"\0" * (8 * MIB)}).commit("8 MiB of zeros")
        pusher.push()
        pack = sum(p.stat().st_size for p in (origin / "objects").rglob("*") if p.is_file())
        assert pack < MIB  # what was pushed is small; what it checks out is not

        with pytest.raises(CheckoutTooBig) as caught:
            fetcher.fetch()
        message = caught.value.message
        assert caught.value.kind == "too_big"
        assert "--git-max-checkout-bytes" in message and "2.0 MiB" in message
        assert "8.0 MiB" in message and "nothing was checked out" in message
        assert snapshot(state / "shop" / "checkouts") == before
        assert fetcher.current_commit() == good.commit
        assert [p.name for p in (state / "shop" / "checkouts").iterdir()] == [good.commit]


def test_too_many_files_is_refused_and_the_repository_says_why(
    origin: Path, pusher: Pusher, state: Path, tmp_path: Path
) -> None:
    with Database(db_path=tmp_path / "db.sqlite") as db:
        spec = RepositorySpec(name="shop", url=str(origin), path="stacks")
        puller = Puller(
            db, spec, state_dir=state, declared_by="test", limits=CheckoutLimits(max_files=20)
        )
        puller.declare()
        first = puller.pull()
        assert first is not None
        recorded = db.stack_versions.list("web")
        pusher.write({f"stacks/many/{i}.txt": "x" for i in range(30)}).commit("30 files")
        pusher.write({"stacks/web/compose.yaml": "services:\n  web:\n    image: busybox:2\n"})
        pusher.commit("web: busybox 2")
        pusher.push()

        assert puller.pull() is None
        assert puller.error is not None and puller.error.startswith("too_big: ")
        assert "32 files, over the cap of 20 (--git-max-checkout-files)" in puller.error
        assert db.stack_versions.list("web") == recorded  # nothing new applied
        assert (state / "shop" / "current" / "stacks" / "web" / "compose.yaml").is_file()

    listed = subprocess.run(
        [sys.executable, "-m", "controller", "get", "repositories", "-o", "json",
         "--db", str(tmp_path / "db.sqlite")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    (row,) = json.loads(listed.stdout)
    assert "--git-max-checkout-files" in json.dumps(row)


def test_the_defaults_leave_ordinary_repositories_alone(
    origin: Path, pusher: Pusher, make_fetcher: Callable[..., Fetcher]
) -> None:
    assert CheckoutLimits() == CheckoutLimits(max_bytes=512 * MIB, max_files=50_000)
    assert make_fetcher(url=str(origin), path="stacks").fetch().changed
