"""Repositories as sources: one ``Puller`` per repository fetches it and hands the checkout to
a ``Watcher`` of its own, which records versions exactly as for the watched directory.

A puller fetches at start, every ``interval`` (jittered), and at once when triggered (a push
webhook, ``stackctl sync --repository``); triggers arriving during a fetch are coalesced into
one more fetch. A fetch that moved the commit swaps the checkout in (``controller.sources.git``) and
the watcher reads it: versions carry the repository, ref, commit, author and subject. A fetch
of an unchanged commit reloads nothing. A fetch that fails changes nothing and deletes nothing:
the last checkout stays, its stacks keep running; the failure is recorded on the repository
row, said once as an event (again only when the error changes) and shown by ``/readyz``.
A read of the checkout that fails (no file descriptor left, a database fault) is run again by
the puller itself, 0.5 s doubling to 30 s apart (the watcher's ``retry_delay``), until one
passes: the fetched commit is recorded then, with no other push or fetch; ``/readyz`` names the
repository and why meanwhile.

Stacks belong to their source: the watcher of a repository deletes only stacks recorded from
its checkout, and a stack name another source declares is invalid in both (``Claims``).

It must never read a credential itself (the fetcher does, at each use) nor decide what a load
means (``changes.detect`` does).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from controller.db import Database
from controller.desired.reach import Reach
from controller.desired.repository_spec import RepositorySpec, redact_url
from controller.models import Event, FetchStatus, LogLevel, Repository
from controller.models.errors import StackctlError
from controller.sources.git.failures import FetchCancelled, FetchError
from controller.sources.git.fetcher import Fetcher, FetchResult
from controller.sources.git.sizing import CheckoutLimits
from controller.sources.watcher import Claims, Watcher

log = logging.getLogger("stackctl.git")

FETCH_TIMEOUT = 60.0
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


@dataclass
class GitStats:
    """What /metrics reports about repositories, counted in this process (thread-safe)."""

    fetches: dict[tuple[str, str], int] = field(default_factory=dict)  # (repo, result) -> n
    last_fetch: dict[str, float] = field(default_factory=dict)  # repo -> unix time
    webhooks: dict[tuple[str, str], int] = field(default_factory=dict)  # (provider, result)
    # Trigger (push) -> APPLY recorded, seconds: cumulative bucket counts, sum and count.
    latency_buckets: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BUCKETS))
    latency_sum: float = 0.0
    latency_count: int = 0
    latency_bounds: tuple[float, ...] = LATENCY_BUCKETS
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fetched(self, repository: str, result: str) -> None:
        with self._lock:
            key = (repository, result)
            self.fetches[key] = self.fetches.get(key, 0) + 1
            self.last_fetch[repository] = time.time()

    def webhook(self, provider: str, result: str) -> None:
        with self._lock:
            key = (provider, result)
            self.webhooks[key] = self.webhooks.get(key, 0) + 1

    def push_applied(self, seconds: float) -> None:
        with self._lock:
            for index, bound in enumerate(LATENCY_BUCKETS):
                if seconds <= bound:
                    self.latency_buckets[index] += 1
            self.latency_sum += seconds
            self.latency_count += 1

    def snapshot(self) -> GitStats:
        with self._lock:
            return GitStats(
                fetches=dict(self.fetches),
                last_fetch=dict(self.last_fetch),
                webhooks=dict(self.webhooks),
                latency_buckets=list(self.latency_buckets),
                latency_sum=self.latency_sum,
                latency_count=self.latency_count,
            )


class Puller:
    def __init__(
        self,
        db: Database,
        spec: RepositorySpec,
        *,
        state_dir: Path,
        declared_by: str,
        claims: Claims | None = None,
        on_enqueue: Callable[[], None] = lambda: None,
        stats: GitStats | None = None,
        timeout_s: float = FETCH_TIMEOUT,
        reach: Reach = Reach(),
        limits: CheckoutLimits = CheckoutLimits(),
    ) -> None:
        self.spec = spec
        self.declared_by = declared_by
        self._db = db
        self._stats = stats or GitStats()
        self._fetcher = Fetcher(spec, state_dir=state_dir, timeout_s=timeout_s, limits=limits)
        # The stable name of the current checkout's folder: versions record it as their root,
        # which is how this repository knows its stacks (and only those) across commits.
        root = state_dir / spec.name / "current" / PurePosixPath(spec.path)
        self.watcher = Watcher(
            db,
            root,
            on_enqueue=on_enqueue,
            source=f"repository {spec.name}",
            claims=claims,
            metadata=self._provenance,
            reach=reach,  # the checkout is the root of its manifests
        )
        self._wake = threading.Event()
        self._triggered_at: float | None = None  # the oldest trigger not fetched yet
        self._unread_since: float | None = None  # the oldest trigger fetched, not read yet
        self._last: FetchResult | None = None
        self.error: str | None = None  # the last fetch's failure; None once one succeeds
        self._said_error: str | None = None
        self._said_nested: str | None = None
        self._first = True

    # -- what others call --------------------------------------------------------------------

    def trigger(self, why: str) -> None:
        """Fetch now (coalesced with a fetch already waiting)."""
        log.info("repository %s: fetch asked (%s)", self.spec.name, why)
        if self._triggered_at is None:
            self._triggered_at = time.monotonic()
        self._wake.set()

    def stop(self) -> None:
        """Leave the loop; a fetch in flight is stopped (its git killed), not waited for."""
        self._fetcher.cancel()
        self._wake.set()

    def declare(self) -> None:
        """Write (or update) the repository's row: what it is, never its credentials."""
        self._db.repositories.declare(
            Repository(
                name=self.spec.name,
                url=redact_url(self.spec.url),
                ref=self.spec.ref,
                path=self.spec.path,
                interval_s=self.spec.interval_s,
                declared_by=self.declared_by,
            )
        )

    # -- the loop ----------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Fetch at start, then at every (jittered) interval or trigger, until ``stop``. A read
        of the checkout that failed runs again after the watcher's back-off, with no fetch."""
        rng = random.Random()
        next_fetch = time.monotonic()
        while not stop.is_set():
            now = time.monotonic()
            if self._wake.is_set() or now >= next_fetch:
                self._wake.clear()
                self._safely(self.pull)
                next_fetch = time.monotonic() + self.spec.interval_s * rng.uniform(0.9, 1.1)
            elif self._last is not None and (self.watcher.retry_due() or self.watcher.take_nudge()):
                self._safely(self._read)  # a failed read again, or another source's claims moved
            wait = min(1.0, next_fetch - time.monotonic())
            if self.watcher.failing is not None:
                wait = min(wait, self.watcher.retry_in())
            self._wake.wait(timeout=max(0.0, wait))

    def _safely(self, step: Callable[[], object]) -> None:
        try:
            step()
        except StackctlError as e:  # a database fault: the next interval, trigger or retry
            log.warning("repository %s: %s", self.spec.name, e)
        except Exception:  # the puller outlives any one bad pass
            log.exception("repository %s: pull failed", self.spec.name)

    def pull(self) -> FetchResult | None:
        """One fetch, and a read of the checkout when the commit moved (or at the first pass,
        after a failed fetch, or while a read fails: what failed to record then is recorded
        now)."""
        triggered_at, self._triggered_at = self._triggered_at, None
        try:
            result = self._fetcher.fetch()
        except FetchCancelled:
            return None  # the controller stops: nothing failed
        except FetchError as e:
            self._failed(e)
            return None
        status = FetchStatus.CHANGED if result.changed else FetchStatus.UNCHANGED
        self._stats.fetched(self.spec.name, status.value)
        self._last = result
        recovered = self.error is not None
        self.error = None
        if result.changed or self._first or recovered or self.watcher.failing is not None:
            if result.changed:
                log.info(
                    "repository %s: %s -> %s (%s)",
                    self.spec.name,
                    (result.previous or "nothing")[:12],
                    result.commit[:12],
                    result.subject,
                )
            if self._unread_since is None:  # else an older trigger still waits for its read
                self._unread_since = triggered_at
            self._read()
        self._db.repositories.record_fetch(
            self.spec.name,
            result=status,
            commit=result.commit,
            author=result.author,
            subject=result.subject,
        )
        if recovered:
            self._said_error = None
            self._event(LogLevel.INFO, "RepositoryFetched", f"fetched {result.commit[:12]} again")
        return result

    def _read(self) -> None:
        """Read the checkout into versions. A pass that fails (no descriptor left, a database
        fault) is logged and said by ``watcher.failing`` (``/readyz``); ``run`` runs it again
        after ``retry_delay`` until one passes, so the fetched commit is recorded without
        another push or fetch."""
        report = self.watcher.sync_safely()
        if report is None:
            return
        self._first = False
        triggered_at, self._unread_since = self._unread_since, None
        if triggered_at is not None and report.recorded:
            self._stats.push_applied(time.monotonic() - triggered_at)
        self._refuse_nested()

    def _refuse_nested(self) -> None:
        """Repositories are declared by the watched directory only: one declared inside a
        repository would let a commit there point the controller anywhere."""
        last = self.watcher.last
        nested = sorted(last.repositories) if last is not None else []
        said = f"{nested}"
        if nested and self._said_nested != said:
            self._said_nested = said
            self._event(
                LogLevel.WARNING,
                "RepositoryIgnored",
                f"declares repositories {', '.join(nested)}; only the watched directory may"
                " declare repositories: ignored",
            )
        elif not nested:
            self._said_nested = None

    def _failed(self, error: FetchError) -> None:
        self.error = f"{error.kind}: {error.message}"
        self._stats.fetched(self.spec.name, "failed")
        log.warning("repository %s: fetch failed: %s", self.spec.name, self.error)
        self._db.repositories.record_fetch(
            self.spec.name, result=FetchStatus.FAILED, error=self.error
        )
        if self._said_error != self.error:  # said once per distinct error, not every interval
            self._said_error = self.error
            self._event(
                LogLevel.ERROR,
                "RepositoryFetchFailed",
                f"{self.error}; nothing is deleted and the last fetched commit keeps running",
            )

    def _provenance(self, _file: str) -> dict[str, str]:
        """Every version read from this repository names its commit (the fetched one, not the
        last one touching the file: the checkout has no history)."""
        if self._last is None:
            return {"git_repository": self.spec.name, "git_ref": self.spec.ref}
        return {
            "git_repository": self.spec.name,
            "git_ref": self.spec.ref,
            "git_commit": self._last.commit,
            "git_author": self._last.author,
            "git_subject": self._last.subject,
        }

    def _event(self, level: LogLevel, reason: str, message: str) -> None:
        self._db.events.add(
            Event(
                level=level,
                reason=reason,
                message=f"repository {self.spec.name}: {message}",
                data={"repository": self.spec.name},
            )
        )
