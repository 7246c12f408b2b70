"""The fetcher follows a repository's ref over every transport a user can give it: a path,
``file://``, ``git://`` (git daemon), ``ssh://`` (OpenSSH, strict host key checking, generated
keys) and smart HTTP with a token. A new commit becomes a new current checkout, the same
commit costs nothing, and the ref's commit is the truth even when it moves backwards.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers.git_servers import GitDaemon, HttpGitServer, Pusher, SshServer, git

from controller.desired.repository_spec import RepositorySpec
from controller.sources.git.failures import RefNotFound
from controller.sources.git.fetcher import Fetcher

# What the conftest's `pusher` committed first, and a second version.
COMPOSE_V1 = "services:\n  web:\n    image: busybox:1\n"
COMPOSE_V2 = "services:\n  web:\n    image: busybox:2\n"

TOKEN = "tok-" + "5e3c" * 8


@contextlib.contextmanager
def transport(kind: str, *, origin: Path, tmp_path: Path) -> Iterator[dict[str, object]]:
    """The spec fields that reach ``origin`` over ``kind``, with its server running."""
    if kind == "path":
        yield {"url": str(origin)}
    elif kind == "file":
        yield {"url": f"file://{origin}"}
    elif kind == "git":
        with GitDaemon(origin.parent, tmp=tmp_path) as daemon:
            yield {"url": daemon.url(origin.name)}
    elif kind == "ssh":
        with SshServer(tmp_path) as sshd:
            yield {
                "url": sshd.url(origin),
                "ssh_key_file": sshd.client_key,
                "known_hosts_file": sshd.known_hosts,
            }
    elif kind == "http":
        token_file = tmp_path / "token"
        token_file.write_text(TOKEN + "\n")
        with HttpGitServer(origin.parent, token=TOKEN) as http:
            yield {"url": http.url(origin.name), "token_file": token_file}
    else:
        raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["path", "file", "git", "ssh", "http"])
def test_new_commit_becomes_current_and_the_same_commit_costs_nothing(
    kind: str, origin: Path, pusher: Pusher, tmp_path: Path, make_fetcher: Callable[..., Fetcher]
) -> None:
    with transport(kind, origin=origin, tmp_path=tmp_path) as fields:
        fetcher = make_fetcher(path="stacks", **fields)

        first = fetcher.fetch()
        assert first.changed and first.previous is None
        assert first.commit == pusher.head()
        assert (first.root / "web" / "compose.yaml").read_text() == COMPOSE_V1
        assert not (first.root / "README.md").exists()  # root is the spec's path, not the top

        again = fetcher.fetch()
        assert not again.changed
        assert (again.commit, again.root, again.previous) == (
            first.commit,
            first.root,
            first.commit,
        )

        pusher.write({"stacks/web/compose.yaml": COMPOSE_V2}).commit("second")
        pusher.push()
        second = fetcher.fetch()
        assert second.changed and second.previous == first.commit
        assert second.commit == pusher.head() != first.commit
        assert (second.root / "web" / "compose.yaml").read_text() == COMPOSE_V2
        assert not first.root.exists(), "the old checkout is removed once the new one is current"
        assert fetcher.current_commit() == second.commit


def test_current_is_a_symlink_to_the_commit_folder(
    origin: Path, pusher: Pusher, make_fetcher: Callable[..., Fetcher], state: Path
) -> None:
    result = make_fetcher(url=str(origin)).fetch()
    assert os.readlink(state / "shop" / "current") == f"checkouts/{result.commit}"
    assert sorted(p.name for p in (state / "shop" / "checkouts").iterdir()) == [result.commit]
    assert (state / "shop" / "mirror.git" / "HEAD").is_file()
    assert result.root == state / "shop" / "checkouts" / result.commit


def test_commit_metadata_is_reported(
    origin: Path, pusher: Pusher, make_fetcher: Callable[..., Fetcher]
) -> None:
    pusher.write({"stacks/web/.env": "A=1\n"})
    pusher.commit(
        "Bump web\nto version 2\n\nLonger body.",
        author="Bob Builder <bob@example.com>",
        date="2024-06-02T08:30:00-05:00",
    )
    pusher.push()
    result = make_fetcher(url=str(origin)).fetch()
    assert result.author == "Bob Builder <bob@example.com>"
    assert result.subject == "Bump web to version 2"  # git's %s: the first paragraph
    assert result.committed_at == "2024-06-02T08:30:00-05:00"


def test_force_push_moving_the_branch_backwards_is_followed(
    origin: Path, pusher: Pusher, make_fetcher: Callable[..., Fetcher]
) -> None:
    first = pusher.head()
    pusher.write({"stacks/web/compose.yaml": COMPOSE_V2}).commit("second")
    pusher.push()
    fetcher = make_fetcher(url=str(origin), path="stacks")
    assert fetcher.fetch().commit != first

    pusher.reset(first).push(force=True)
    back = fetcher.fetch()
    assert back.changed and back.commit == first
    assert (back.root / "web" / "compose.yaml").read_text() == COMPOSE_V1

    pusher.write({"stacks/web/compose.yaml": "services: {rewritten: {image: x}}\n"})
    rewritten = pusher.commit("rewritten history")
    pusher.push(force=True)
    assert fetcher.fetch().commit == rewritten


def test_a_deleted_branch_is_pruned_from_the_mirror(
    origin: Path, pusher: Pusher, make_fetcher: Callable[..., Fetcher]
) -> None:
    pusher.push("feature")
    fetcher = make_fetcher(url=str(origin), ref="feature")
    assert fetcher.fetch().commit == pusher.head()
    git(pusher.work, "push", "--quiet", "origin", ":feature")
    with pytest.raises(RefNotFound):
        fetcher.fetch()


@pytest.mark.parametrize("annotated", [False, True], ids=["lightweight", "annotated"])
def test_a_tag_ref_resolves_to_its_commit(
    annotated: bool, origin: Path, pusher: Pusher, make_fetcher: Callable[..., Fetcher]
) -> None:
    tagged = pusher.head()
    pusher.tag("v1.0", message="release 1.0" if annotated else None)
    pusher.write({"stacks/web/compose.yaml": COMPOSE_V2}).commit("after the tag")
    pusher.push()

    result = make_fetcher(url=str(origin), ref="v1.0", path="stacks").fetch()
    assert result.commit == tagged
    assert (result.root / "web" / "compose.yaml").read_text() == COMPOSE_V1


@pytest.mark.parametrize("length", [40, 12, 7])
def test_a_commit_ref_pins_that_commit(
    length: int, origin: Path, pusher: Pusher, make_fetcher: Callable[..., Fetcher]
) -> None:
    pinned = pusher.head()
    pusher.write({"stacks/web/compose.yaml": COMPOSE_V2}).commit("later")
    pusher.push()
    fetcher = make_fetcher(url=str(origin), ref=pinned[:length], path="stacks")
    result = fetcher.fetch()
    assert result.commit == pinned
    assert (result.root / "web" / "compose.yaml").read_text() == COMPOSE_V1
    assert not fetcher.fetch().changed


def test_a_branch_wins_over_a_tag_of_the_same_name(
    origin: Path, pusher: Pusher, make_fetcher: Callable[..., Fetcher]
) -> None:
    pusher.tag("prod")
    pusher.write({"x": "1"}).commit("on the branch")
    pusher.push("prod")
    assert make_fetcher(url=str(origin), ref="prod").fetch().commit == pusher.head()
    assert (
        make_fetcher(url=str(origin), ref="refs/tags/prod", name="t").fetch().commit
        != pusher.head()
    )


def test_a_relative_local_path_is_resolved_from_the_callers_folder(
    origin: Path,
    pusher: Pusher,
    make_fetcher: Callable[..., Fetcher],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(origin.parent)
    fetcher = make_fetcher(url=f"./{origin.name}")
    monkeypatch.chdir("/")
    assert fetcher.fetch().commit == pusher.head()


def test_a_relative_state_dir_is_resolved_from_the_callers_folder(
    origin: Path, pusher: Pusher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    spec = RepositorySpec(name="shop", url=str(origin))
    fetcher = Fetcher(spec, state_dir=Path("relative-state"))
    monkeypatch.chdir("/")
    result = fetcher.fetch()
    assert result.root == tmp_path / "relative-state" / "shop" / "checkouts" / pusher.head()
