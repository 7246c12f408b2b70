"""When a fetch fails (repository gone, ref or folder missing, server hung) it raises a typed
``FetchError`` and the current checkout stays exactly as it was: a source that cannot be read
deletes nothing. A crash half-way, or a restart, leaves a state dir the next fetch can use.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from helpers.git_servers import GitDaemon, HungServer, Pusher, SshServer, processes_mentioning

from controller.models.errors import TransientError
from controller.sources.git.failures import FetchError, FetchTimeout, PathNotFound, RefNotFound
from controller.sources.git.fetcher import Fetcher
from controller.sources.git.runner import GitOutput, failure

COMPOSE_V1 = "services:\n  web:\n    image: busybox:1\n"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_an_unreachable_repository_keeps_the_current_checkout(
    origin: Path, pusher: Pusher, make_fetcher: Callable[..., Fetcher], state: Path
) -> None:
    fetcher = make_fetcher(url=str(origin), path="stacks")
    good = fetcher.fetch()
    before = snapshot(state / "shop")
    moved = origin.rename(origin.with_name("elsewhere.git"))

    with pytest.raises(FetchError) as caught:
        fetcher.fetch()
    assert isinstance(caught.value, TransientError), "the worker retries it with backoff"
    assert caught.value.kind == "unreachable"
    assert str(origin) in str(caught.value)
    assert snapshot(state / "shop") == before
    assert fetcher.current_commit() == good.commit and fetcher.current_root() == good.root

    moved.rename(origin)
    assert fetcher.fetch() == replace(good, changed=False, previous=good.commit)


def test_a_missing_ref_is_ref_not_found_and_changes_nothing(
    origin: Path, pusher: Pusher, make_fetcher: Callable[..., Fetcher], state: Path
) -> None:
    make_fetcher(url=str(origin)).fetch()
    before = snapshot(state / "shop" / "checkouts")
    for ref in ("no-such-branch", "deadbeef", "0" * 40, "refs/heads/nope"):
        with pytest.raises(RefNotFound, match=ref):
            make_fetcher(url=str(origin), ref=ref).fetch()
    assert snapshot(state / "shop" / "checkouts") == before


def test_a_commit_without_the_folder_is_path_not_found_and_the_old_one_stays(
    origin: Path, pusher: Pusher, make_fetcher: Callable[..., Fetcher], state: Path
) -> None:
    fetcher = make_fetcher(url=str(origin), path="stacks")
    good = fetcher.fetch()
    pusher.remove("stacks").commit("moved the stacks away")
    pusher.push()

    with pytest.raises(PathNotFound, match="stacks"):
        fetcher.fetch()
    assert fetcher.current_commit() == good.commit
    assert (good.root / "web" / "compose.yaml").read_text() == COMPOSE_V1
    assert sorted(p.name for p in (state / "shop" / "checkouts").iterdir()) == [good.commit]


@pytest.mark.parametrize("target", ["/etc", "../../..", "README.md"])
def test_a_path_that_is_a_symlink_out_or_a_file_is_path_not_found(
    target: str, origin: Path, pusher: Pusher, make_fetcher: Callable[..., Fetcher]
) -> None:
    os.symlink(target, pusher.work / "linked")
    pusher.commit("a link as the stacks folder")
    pusher.push()
    with pytest.raises(PathNotFound):
        make_fetcher(url=str(origin), path="linked").fetch()


def test_a_hung_server_times_out_and_leaves_no_process_behind(
    make_fetcher: Callable[..., Fetcher], tmp_path: Path, origin: Path, pusher: Pusher
) -> None:
    with HungServer() as hung:
        for scheme in ("git", "ssh", "http"):
            fetcher = make_fetcher(url=f"{scheme}://127.0.0.1:{hung.port}/shop.git", timeout_s=1.5)
            started = time.monotonic()
            with pytest.raises(FetchTimeout, match="timed out"):
                fetcher.fetch()
            took = time.monotonic() - started
            assert 1.4 < took < 4, f"{scheme}: {took:.1f}s"
            assert processes_mentioning(str(hung.port)) == []
    # The killed fetch left the mirror usable.
    assert make_fetcher(url=str(origin)).fetch().commit == pusher.head()


def test_an_sshd_that_stops_answering_times_out(
    make_fetcher: Callable[..., Fetcher], tmp_path: Path, origin: Path, pusher: Pusher
) -> None:
    with SshServer(tmp_path) as sshd:
        spec = {"ssh_key_file": sshd.client_key, "known_hosts_file": sshd.known_hosts}
        fetcher = make_fetcher(url=sshd.url(origin), timeout_s=10, **spec)
        assert fetcher.fetch().changed
        assert sshd.proc is not None
        os.killpg(sshd.proc.pid, 19)  # SIGSTOP: the port still accepts, nobody answers
        try:
            hung = make_fetcher(url=sshd.url(origin), timeout_s=1.5, **spec)
            with pytest.raises(FetchTimeout):
                hung.fetch()
            assert processes_mentioning(f"-p {sshd.port}") == []
            assert fetcher.current_commit() == pusher.head()
        finally:
            os.killpg(sshd.proc.pid, 18)  # SIGCONT, so that stop() can end it


def test_a_restarted_process_picks_up_the_state_dir(
    origin: Path, pusher: Pusher, make_fetcher: Callable[..., Fetcher], tmp_path: Path
) -> None:
    with GitDaemon(origin.parent, tmp=tmp_path) as daemon:
        first = make_fetcher(url=daemon.url(origin.name), path="stacks").fetch()

        restarted = make_fetcher(url=daemon.url(origin.name), path="stacks")
        assert restarted.current_commit() == first.commit  # before any fetch
        assert restarted.current_root() == first.root
        again = restarted.fetch()
        assert (again.changed, again.previous, again.root) == (False, first.commit, first.root)


def test_leftovers_of_an_interrupted_fetch_are_never_current_and_are_cleaned(
    origin: Path, pusher: Pusher, make_fetcher: Callable[..., Fetcher], state: Path
) -> None:
    fetcher = make_fetcher(url=str(origin))
    good = fetcher.fetch()
    pusher.write({"stacks/web/compose.yaml": "services: {b: {image: y}}\n"})
    newer = pusher.commit("newer")
    pusher.push()
    home = state / "shop"
    # What a crash (power cut, SIGKILL) at each step of a fetch can leave behind.
    half = home / "checkouts" / f".tmp-{newer}-dead"
    (half / "stacks").mkdir(parents=True)
    (half / "stacks" / "partial.yaml").write_text("servi")
    (home / "checkouts" / f".tmp-{newer}-dead.index").write_bytes(b"DIRC")
    os.symlink(f"checkouts/{half.name}", home / ".tmp-current-dead")
    (home / ".tmp-mirror-dead").mkdir()
    (home / "mirror.git" / "packed-refs.lock").write_text("")
    (home / "mirror.git" / "refs" / "heads" / "main.lock").write_text("")
    assert fetcher.current_commit() == good.commit

    result = make_fetcher(url=str(origin)).fetch()
    assert result.changed and result.commit == newer
    assert sorted(p.name for p in (home / "checkouts").iterdir()) == [newer]
    assert sorted(p.name for p in home.iterdir()) == ["checkouts", "current", "lock", "mirror.git"]
    assert not list((home / "mirror.git").rglob("*.lock"))


def test_a_current_link_to_a_missing_checkout_counts_as_none(
    origin: Path, pusher: Pusher, make_fetcher: Callable[..., Fetcher], state: Path
) -> None:
    first = make_fetcher(url=str(origin)).fetch()
    os.replace(state / "shop" / "checkouts" / first.commit, state / "elsewhere")
    fetcher = make_fetcher(url=str(origin))
    assert fetcher.current_commit() is None
    result = fetcher.fetch()
    assert (result.changed, result.previous, result.commit) == (True, None, first.commit)


def test_a_broken_mirror_is_made_again(
    origin: Path, pusher: Pusher, make_fetcher: Callable[..., Fetcher], state: Path
) -> None:
    make_fetcher(url=str(origin)).fetch()
    (state / "shop" / "mirror.git" / "HEAD").unlink()  # e.g. a crash during `git init`
    assert make_fetcher(url=str(origin)).fetch().commit == pusher.head()


def test_two_fetchers_of_one_state_dir_take_turns(
    origin: Path, pusher: Pusher, make_fetcher: Callable[..., Fetcher], state: Path
) -> None:
    results, errors = [], []

    def run() -> None:
        try:
            results.append(make_fetcher(url=str(origin)).fetch())
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r.changed for r in results) == 1
    assert {r.commit for r in results} == {pusher.head()}
    assert sorted(p.name for p in (state / "shop" / "checkouts").iterdir()) == [pusher.head()]


@pytest.mark.parametrize(
    ("stderr", "kind"),
    [
        ("Host key verification failed.\nfatal: Could not read from remote repository.", "auth"),
        ("git@127.0.0.1: Permission denied (publickey).", "auth"),
        ("fatal: unable to access 'https://h/x/': The requested URL returned error: 403", "auth"),
        ("fatal: could not read Username for 'https://h': terminal prompts disabled", "auth"),
        ("Connection timed out during banner exchange", "timeout"),
        ("ssh: connect to host h port 22: Connection refused", "unreachable"),
        ("fatal: '/srv/x.git' does not appear to be a git repository", "unreachable"),
        ("", "unreachable"),
    ],
)
def test_what_git_said_decides_the_kind_of_error(stderr: str, kind: str) -> None:
    error = failure(action="cannot fetch x", output=GitOutput(128, b"", stderr))
    assert error.kind == kind
    assert str(error).startswith("cannot fetch x: ")
    assert "Please make sure" not in str(error)
