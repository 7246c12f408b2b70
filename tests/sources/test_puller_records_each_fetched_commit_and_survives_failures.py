"""``Puller`` on a real local git repository (a bare origin and a clone that pushes) and a real
database, without a controller: a fetch that moved the commit is read into versions naming the
repository, ref, commit, author and subject; an unchanged commit reloads nothing; a failed fetch
changes and deletes nothing and is said once per distinct error, then its recovery once; a read
of the checkout that fails is run again by the puller itself with no other fetch; triggers
(webhooks, ``stackctl sync --repository``) fetch at once and coalesce; a repository declared
inside a repository is refused, said once."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers.git_servers import HungServer, Pusher, bare_repo

from controller.db import Database
from controller.desired.repository_spec import RepositorySpec
from controller.models import CommandType, FetchStatus, LogLevel
from controller.sources.puller import LATENCY_BUCKETS, GitStats, Puller

NESTED = (
    "apiVersion: stackctl/v1\nkind: Repository\nmetadata: {name: elsewhere}\n"
    "spec: {url: https://git.example.com/elsewhere.git}\n"
)


def compose(image: str) -> str:
    return f"services:\n  web:\n    image: {image}\n"


def wait_for(what: str, condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class Repo:
    """An origin with one pushed commit (``stacks/web.yaml``), a puller of its ``stacks``
    folder on a fresh database, and what the test looks at."""

    def __init__(self, tmp: Path, *, interval_s: float = 3600.0) -> None:
        served = tmp / "served"
        served.mkdir()
        self.origin = bare_repo(served, "shop.git")
        self.pusher = Pusher(self.origin, work=tmp / "work")
        self.pusher.write({"stacks/web.yaml": compose("web:1"), "README.md": "shop\n"})
        self.first = self.pusher.commit("first web")
        self.pusher.push()
        self.db = Database(db_path=tmp / "s.db")
        self.stats = GitStats()
        self.enqueued = 0
        spec = RepositorySpec(
            name="shop", url=str(self.origin), path="stacks", interval_s=interval_s
        )
        self.puller = Puller(
            self.db,
            spec,
            state_dir=tmp / "state",
            declared_by="--git-url",
            on_enqueue=self._enqueued,
            stats=self.stats,
            timeout_s=20.0,
        )
        self.puller.declare()

    def _enqueued(self) -> None:
        self.enqueued += 1

    def push(self, files: dict[str, str], subject: str, *, remove: tuple[str, ...] = ()) -> str:
        self.pusher.write(files)
        if remove:
            self.pusher.remove(*remove)
        commit = self.pusher.commit(subject)
        self.pusher.push()
        return commit

    def versions(self, stack: str = "web") -> list[str]:
        return [v.version or "" for v in self.db.stack_versions.list(stack)]

    def events(self, reason: str) -> list[tuple[LogLevel, str]]:
        items = self.db.events.list(limit=200).items
        return [(e.level, e.message) for e in reversed(items) if e.reason == reason]

    def fetches(self) -> dict[str, int]:
        return {result: n for (_, result), n in self.stats.snapshot().fetches.items()}


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repo]:
    repo = Repo(tmp_path)
    yield repo
    repo.db.close()


@pytest.fixture
def running(repo: Repo) -> Iterator[Callable[[], threading.Thread]]:
    """``start()``: the puller's loop in a thread, stopped as the controller stops it."""
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start() -> threading.Thread:
        thread = threading.Thread(target=repo.puller.run, args=(stop,), daemon=True)
        threads.append(thread)
        thread.start()
        return thread

    yield start
    stop.set()
    repo.puller.stop()
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive(), "the puller did not stop"


def test_a_fetched_commit_becomes_versions_naming_it(repo: Repo):
    row = repo.db.repositories.get("shop")
    assert row is not None and (row.url, row.ref, row.path, row.declared_by) == (
        str(repo.origin),
        "main",
        "stacks",
        "--git-url",
    )
    result = repo.puller.pull()
    assert result is not None and result.changed and result.commit == repo.first
    version = repo.db.stack_versions.require("web", "v1")
    meta = version.metadata
    assert (meta.git_repository, meta.git_ref, meta.git_commit) == ("shop", "main", repo.first)
    assert (meta.git_subject, meta.git_author) == ("first web", result.author)
    assert "Alice Example" in result.author
    assert repo.enqueued == 1
    row = repo.db.repositories.get("shop")
    assert (row.last_result, row.last_commit, row.last_subject) == (
        FetchStatus.CHANGED,
        repo.first,
        "first web",
    )
    assert repo.fetches() == {"changed": 1}


def test_an_unchanged_commit_reloads_nothing(repo: Repo, monkeypatch):
    repo.puller.pull()
    reads: list[int] = []
    sync = repo.puller.watcher.sync_safely
    monkeypatch.setattr(repo.puller.watcher, "sync_safely", lambda: reads.append(1) or sync())
    result = repo.puller.pull()
    assert result is not None and not result.changed
    assert reads == []
    assert repo.db.repositories.get("shop").last_result is FetchStatus.UNCHANGED
    assert repo.fetches() == {"changed": 1, "unchanged": 1}


def test_a_new_commit_records_new_versions_and_deletes_what_it_removed(repo: Repo):
    repo.puller.pull()
    second = repo.push(
        {"stacks/web.yaml": compose("web:2"), "stacks/db.yaml": compose("db:1")}, "web 2, db"
    )
    assert repo.puller.pull().previous == repo.first
    assert repo.versions() == ["v1", "v2"]
    assert repo.db.stack_versions.require("web", "v2").metadata.git_commit == second
    assert repo.db.stack_versions.require("db", "v1").metadata.git_subject == "web 2, db"
    repo.push({}, "no more db", remove=("stacks/db.yaml",))
    repo.puller.pull()
    deletes = repo.db.commands.list(type=CommandType.DELETE_STACK).items
    assert [c.stack_id for c in deletes] == ["db"]


def test_a_failed_fetch_changes_nothing_and_is_said_once_then_its_recovery(repo: Repo):
    repo.puller.pull()
    checkout = repo.puller.watcher.root / "web.yaml"
    assert checkout.is_file()
    moved = repo.origin.with_name("gone.git")
    os.rename(repo.origin, moved)  # the server is unreachable
    for _ in range(3):
        assert repo.puller.pull() is None
    assert repo.puller.error is not None and repo.puller.error.startswith("unreachable: ")
    row = repo.db.repositories.get("shop")
    assert (row.last_result, row.last_error) == (FetchStatus.FAILED, repo.puller.error)
    assert row.last_commit == repo.first  # the last fetched commit keeps running
    [(level, message)] = repo.events("RepositoryFetchFailed")
    assert level is LogLevel.ERROR
    assert message == (
        f"repository shop: {repo.puller.error}; nothing is deleted and the last fetched"
        " commit keeps running"
    )
    assert checkout.is_file() and repo.versions() == ["v1"]
    assert repo.db.commands.list(type=CommandType.DELETE_STACK).items == []
    assert repo.fetches() == {"changed": 1, "failed": 3}

    os.rename(moved, repo.origin)
    result = repo.puller.pull()
    assert result is not None and not result.changed and repo.puller.error is None
    assert repo.events("RepositoryFetched") == [
        (LogLevel.INFO, f"repository shop: fetched {repo.first[:12]} again")
    ]
    assert repo.db.repositories.get("shop").last_error is None
    os.rename(repo.origin, moved)  # failing again, with the same error: said again
    repo.puller.pull()
    assert len(repo.events("RepositoryFetchFailed")) == 2


def test_a_different_fetch_error_is_said_again(repo: Repo):
    repo.puller.pull()
    os.rename(repo.origin, repo.origin.with_name("gone.git"))
    repo.puller.pull()
    first_error = repo.puller.error
    bare_repo(repo.origin.parent, repo.origin.name)  # there again, empty: no main to fetch
    repo.puller.pull()
    assert repo.puller.error != first_error
    assert repo.puller.error.startswith("ref_not_found: "), repo.puller.error
    assert len(repo.events("RepositoryFetchFailed")) == 2


def test_a_read_that_fails_is_run_again_without_another_fetch(repo: Repo, running, monkeypatch):
    sync = repo.puller.watcher.sync
    failures = [OSError(24, "Too many open files")]

    def flaky():
        if failures:
            raise failures.pop()
        return sync()

    monkeypatch.setattr(repo.puller.watcher, "sync", flaky)
    running()
    wait_for("the failed read", lambda: repo.puller.watcher.failing is not None or repo.versions())
    # The retried read records v1, then says it passed (``failing`` cleared after the sync
    # returns): wait for both, as a loaded machine shows the version first.
    wait_for(
        "the read run again",
        lambda: repo.versions() == ["v1"] and repo.puller.watcher.failing is None,
        timeout=5.0,
    )
    assert repo.fetches() == {"changed": 1}  # one fetch: the retry was a read only
    meta = repo.db.stack_versions.require("web", "v1").metadata
    assert meta.git_commit == repo.first


def test_a_read_failing_at_the_fetch_is_read_again_at_the_next_fetch(repo: Repo, monkeypatch):
    sync = repo.puller.watcher.sync
    failures = [OSError(24, "Too many open files")]

    def flaky():
        if failures:
            raise failures.pop()
        return sync()

    repo.puller.pull()  # v1 read
    monkeypatch.setattr(repo.puller.watcher, "sync", flaky)
    second = repo.push({"stacks/web.yaml": compose("web:2")}, "web 2")
    repo.puller.pull()
    assert "Too many open files" in (repo.puller.watcher.failing or "")
    assert repo.versions() == ["v1"]
    assert repo.db.repositories.get("shop").last_commit == second
    assert not repo.puller.pull().changed  # the same commit: read again all the same
    assert repo.versions() == ["v1", "v2"]
    assert repo.puller.watcher.failing is None


def test_a_trigger_fetches_at_once_and_times_push_to_record(repo: Repo, running):
    running()
    wait_for("the first fetch", lambda: repo.versions() == ["v1"])
    repo.push({"stacks/web.yaml": compose("web:2")}, "web 2")
    repo.puller.trigger("a test push")
    wait_for("the pushed commit", lambda: repo.versions() == ["v1", "v2"], timeout=5.0)
    stats = repo.stats.snapshot()
    assert stats.latency_count == 1 and 0 < stats.latency_sum < 5.0
    assert repo.fetches() == {"changed": 2}


def test_triggers_during_a_fetch_coalesce_into_one_more(repo: Repo, running, monkeypatch):
    fetcher = repo.puller._fetcher
    fetch = fetcher.fetch
    calls: list[int] = []

    def fetch_while_pushes_arrive():
        calls.append(1)
        if len(calls) == 1:
            for n in range(3):
                repo.puller.trigger(f"push {n}")
        return fetch()

    monkeypatch.setattr(fetcher, "fetch", fetch_while_pushes_arrive)
    running()
    wait_for("two fetches", lambda: len(calls) >= 2)
    time.sleep(1.5)
    assert len(calls) == 2


def test_stop_ends_the_loop_without_waiting_for_a_fetch_in_flight(tmp_path: Path):
    db = Database(db_path=tmp_path / "s.db")
    with HungServer() as hung:
        spec = RepositorySpec(name="hung", url=f"git://127.0.0.1:{hung.port}/shop.git")
        puller = Puller(db, spec, state_dir=tmp_path / "state", declared_by="test", timeout_s=60.0)
        stop = threading.Event()
        thread = threading.Thread(target=puller.run, args=(stop,), daemon=True)
        thread.start()
        time.sleep(1.0)  # the first fetch is waiting on the silent server
        started = time.monotonic()
        stop.set()
        puller.stop()
        thread.join(timeout=10)
        assert not thread.is_alive() and time.monotonic() - started < 3.0
    assert puller.error is None  # cancelled, not failed
    assert db.events.list().items == []
    db.close()


def test_a_repository_declared_in_a_repository_is_refused_and_said_once(repo: Repo):
    repo.push({"stacks/elsewhere.yaml": NESTED}, "declare another")
    repo.puller.pull()
    repo.push({"stacks/web.yaml": compose("web:2")}, "web 2")
    repo.puller.pull()
    [(level, message)] = repo.events("RepositoryIgnored")
    assert level is LogLevel.WARNING
    assert message == (
        "repository shop: declares repositories elsewhere; only the watched directory may"
        " declare repositories: ignored"
    )
    assert repo.db.repositories.get("elsewhere") is None
    repo.push({}, "no nested", remove=("stacks/elsewhere.yaml",))
    repo.puller.pull()
    repo.push({"stacks/elsewhere.yaml": NESTED}, "again")
    repo.puller.pull()
    assert len(repo.events("RepositoryIgnored")) == 2  # said again after it was gone


def test_git_stats_count_and_bucket():
    stats = GitStats()
    stats.fetched("shop", "changed")
    stats.fetched("shop", "changed")
    stats.webhook("github", "accepted")
    stats.push_applied(0.1)  # on a bound: counted in it
    stats.push_applied(0.3)
    stats.push_applied(7.0)
    snap = stats.snapshot()
    assert snap.fetches == {("shop", "changed"): 2} and "shop" in snap.last_fetch
    assert snap.webhooks == {("github", "accepted"): 1}
    cumulative = dict(zip(LATENCY_BUCKETS, snap.latency_buckets, strict=True))
    assert [cumulative[b] for b in (0.1, 0.25, 0.5, 5.0, 10.0, 300.0)] == [1, 1, 2, 2, 3, 3]
    assert (snap.latency_count, snap.latency_sum) == (3, pytest.approx(7.4))
    stats.fetched("shop", "failed")
    assert ("shop", "failed") not in snap.fetches  # a snapshot is a copy
