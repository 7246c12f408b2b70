"""Git latency: how long from a ``git push`` to the APPLY of the pushed commit, under a real
``stackctl run`` following a bare repository on disk, and what an unchanged fetch costs.

(a) Webhook: ``--git-interval 3600`` (only the webhook fetches). Each push edits one stack's
    environment value (stacks in turn), commits, ``git push``es to the bare repository, then
    POSTs the signed GitHub push webhook to ``/api/v1/hooks/git?repository=default``. The
    latency ends at ``commands.created_at`` of the APPLY_STACK_VERSION whose version's metadata
    ``git_commit`` is the pushed sha (wall clock, the controller's own timestamp; this script
    polls the database read-only every 5 ms to find it). Two starts: the webhook POST sent
    (``hook -> APPLY``) and ``git push`` started (``push -> APPLY``). The next push waits until
    that stack is applied, so every push meets an idle controller. Repositories of 1 and 100
    one-service stacks (``--stacks``); the 100 are converged before the first push. From the
    controller's JSON log, each push is split in: POST -> ``fetch asked`` (HTTP, signature),
    ``fetch asked`` -> ``a -> b`` logged (the puller wakes, git fetch, checkout), and that ->
    APPLY recorded (the watcher reads the checkout, records the version and its APPLY).
(b) Polling: ``--git-interval 2``, no webhook, one stack; each push waits a random 0-2 s first
    so pushes fall anywhere in the interval; ``push returned -> APPLY``, to compare with
    interval + 1 s.
(c) In process, no engine: a repository of 1,000 stacks (``--fetch-stacks``); time
    ``Fetcher.fetch()`` cold and unchanged, and ``Puller.pull()`` (a ``Database`` on a temp
    file, no worker) first, unchanged (checked: no version recorded, ``watcher.last`` the same
    object) and after a commit editing one stack (checked: one version recorded).

Percentiles are nearest-rank (p95 of 20 is the 19th). Stacks are ``<prefix>-s<i>`` (``gitlat`` +
6 random hex); whatever happens (a failure, Ctrl-C, SIGTERM) the controller is stopped by its
pid and every container and network of the prefix is removed, and the temporary folder.

Needs the engine and the test images (``scripts/engine.sh``) and git. Run:
``.venv/bin/python bench/git_latency.py [--pushes 20] [--stacks 1,100] [--poll-pushes 10]
[--fetch-stacks 1000] [--quick]``. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's queue: drop this folder from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import contextlib
import ctypes
import functools
import hashlib
import hmac
import json
import os
import random
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TypeVar

import docker
import docker.errors

from controller.db import Database
from controller.desired.repository_spec import RepositorySpec
from controller.sources.git.fetcher import Fetcher
from controller.sources.puller import Puller

IMAGE = "stackctl-test/busybox:1"
PROJECT = "com.docker.compose.project"
SECRET = b"bench-secret"
TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
T = TypeVar("T")
print = functools.partial(print, flush=True)  # figures must survive a kill

# Our git calls see no host or user config (signing, hooks, default branch).
GIT_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "LC_ALL": "C",
}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", *args],
        cwd=cwd, env=GIT_ENV, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed in {cwd}: {done.stderr.strip()}")
    return done.stdout.strip()


def compose(rev: int) -> str:
    return (
        "services:\n"
        "  app:\n"
        f"    image: {IMAGE}\n"
        "    pull_policy: never\n"
        "    init: true\n"
        "    command: [sleep, '3600']\n"
        f"    environment: {{REV: '{rev}'}}\n"
    )


class Repo:
    """A bare repository ``origin.git`` and a work clone that writes stacks, commits, pushes."""

    def __init__(self, home: Path, names: list[str]) -> None:
        home.mkdir(parents=True)
        self.bare, self.work = home / "origin.git", home / "work"
        git(home, "init", "--quiet", "--bare", str(self.bare))
        git(home, "clone", "--quiet", str(self.bare), str(self.work))
        git(self.work, "checkout", "--quiet", "-B", "main")
        (self.work / "stacks").mkdir()
        for name in names:
            self.write(name, 0)
        self.commit(f"{len(names)} stacks")
        self.push()

    def write(self, name: str, rev: int) -> None:
        (self.work / "stacks" / f"{name}.yaml").write_text(compose(rev))

    def commit(self, subject: str) -> str:
        git(self.work, "add", "--all", "stacks")
        git(self.work, "commit", "--quiet", "-m", subject)
        return git(self.work, "rev-parse", "HEAD")

    def push(self) -> None:
        git(self.work, "push", "--quiet", "origin", "HEAD:refs/heads/main")


def _die_with_parent() -> None:
    """In the child: the kernel SIGKILLs it if this script dies, so no controller outlives us."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(check: Callable[[], T], timeout: float, step: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


class Controller:
    """``stackctl run`` following ``repo`` (JSON log beside the database); stopped by its pid."""

    def __init__(self, work: Path, repo: Repo, *, interval: float, port: int | None,
                 workers: int) -> None:  # fmt: skip
        manifests = work / "manifests"
        manifests.mkdir()
        self.db, self.log = work / "db.sqlite", work / "controller.log"
        self.port = port
        api = ["--no-api"]
        if port is not None:
            secret = work / "hook-secret"
            secret.write_bytes(SECRET + b"\n")
            api = ["--api", f"127.0.0.1:{port}", "--git-webhook-secret-file", str(secret)]
        self.args = [sys.executable, "-m", "controller", "run", "--manifests", str(manifests),
                     "--db", str(self.db), "--resync", "3600", "--workers", str(workers),
                     "--log-format", "json", "--git-url", str(repo.bare), "--git-path", "stacks",
                     "--git-interval", f"{interval:g}", *api]  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None
        self._offset = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.args, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
            )
        wait(lambda: "controller running" in self.log.read_text() or self.proc.poll() is not None,
             60, 0.05, "the controller to start")  # fmt: skip
        if self.proc.poll() is not None:
            raise SystemExit(f"the controller exited:\n{self.log.read_text()[-3000:]}")
        if self.port is not None:
            wait(lambda: self.metrics() is not None, 30, 0.05, "the API")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self.proc = None

    def metrics(self) -> str | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
                return r.read().decode()
        except (OSError, urllib.error.URLError):
            return None

    def new_log_lines(self) -> list[dict]:
        """The JSON log lines written since the last call."""
        with self.log.open("rb") as f:
            f.seek(self._offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self._offset += end
        lines = []
        for raw in data[:end].splitlines():
            with contextlib.suppress(ValueError):
                lines.append(json.loads(raw))
        return lines

    def hook(self, sha: str, url: str) -> None:
        body = json.dumps({
            "ref": "refs/heads/main", "after": sha,
            "repository": {"full_name": "ops/infra", "clone_url": url},
        }).encode()  # fmt: skip
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/v1/hooks/git?repository=default",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-GitHub-Event": "push",
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": "sha256="
                + hmac.new(SECRET, body, hashlib.sha256).hexdigest(),
            },
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            if answer.status != 202:
                raise SystemExit(f"webhook answered {answer.status}: {answer.read()!r}")


class DbView:
    """The controller's database, read-only."""

    def __init__(self, path: Path) -> None:
        wait(lambda: path.exists(), 30, 0.05, "the database")
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)

    def apply_of(self, stack: str, sha: str) -> tuple[float, str] | None:
        """(created_at as unix time, version) of the APPLY of ``stack``'s version of ``sha``."""
        row = self.conn.execute(
            "SELECT c.created_at, v.version FROM commands c JOIN stack_versions v"
            " ON v.stack_id = c.stack_id AND v.version = json_extract(c.payload, '$.version')"
            " WHERE c.stack_id = ? AND c.type = 'APPLY_STACK_VERSION'"
            " AND json_extract(v.metadata, '$.git_commit') = ?"
            " ORDER BY c.command_id LIMIT 1",
            (stack, sha),
        ).fetchone()
        return None if row is None else (_unix(row[0]), row[1])

    def applied(self, stack: str, version: str) -> bool:
        row = self.conn.execute(
            "SELECT applied_version FROM stacks WHERE stack_id = ?", (stack,)
        ).fetchone()
        return row is not None and row[0] == version

    def all_applied(self, names: list[str]) -> int:
        """How many of ``names`` are applied at their current version, 0 while any command of
        theirs waits or runs."""
        busy = self.conn.execute(
            "SELECT count(*) FROM commands WHERE status IN ('PENDING', 'RUNNING')"
        ).fetchone()[0]
        done = self.conn.execute(
            "SELECT count(*) FROM stacks WHERE applied_version IS NOT NULL"
            " AND applied_version = current_version"
        ).fetchone()[0]
        return 0 if busy else (done if done == len(names) else 0)

    def failed(self) -> list[tuple[str, str]]:
        return self.conn.execute(
            "SELECT stack_id, error FROM commands WHERE status = 'FAILED' ORDER BY command_id"
        ).fetchall()

    def close(self) -> None:
        self.conn.close()


def _unix(text: str) -> float:
    return datetime.strptime(text, TS_FORMAT).replace(tzinfo=UTC).timestamp()


def _log_ts(line: dict) -> float:
    return datetime.fromisoformat(line["ts"]).timestamp()


def remove_prefix(client: docker.DockerClient, prefix: str) -> int:
    """Remove every container and network whose compose project starts with ``prefix``."""
    doomed = [
        c for c in client.containers.list(all=True, filters={"label": PROJECT},
                                          ignore_removed=True)
        if c.labels.get(PROJECT, "").startswith(prefix)
    ]  # fmt: skip

    def remove(container) -> None:
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            container.remove(force=True)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(remove, doomed))
    for network in client.networks.list(filters={"label": PROJECT}):
        if network.attrs.get("Labels", {}).get(PROJECT, "").startswith(prefix):
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                network.remove()
    return len(doomed)


# -- figures -----------------------------------------------------------------------------------


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


ROWS: list[tuple[str, list[float]]] = []


def note(label: str, values: list[float]) -> None:
    ROWS.append((label, values))
    print(f"  {_row(label, values)}")


def _row(label: str, values: list[float]) -> str:
    if not values:
        return f"{label:<58} {'-':>8} {'-':>8} {'-':>8} {0:>4}"
    ms = [v * 1000 for v in values]
    return (f"{label:<58} {statistics.median(ms):8.0f} {nearest_rank(ms, 0.95):8.0f} "
            f"{max(ms):8.0f} {len(ms):>4}")  # fmt: skip


def table() -> None:
    print(f"\n{'figure (ms)':<58} {'p50':>8} {'p95':>8} {'max':>8} {'n':>4}")
    for label, values in ROWS:
        print(_row(label, values))


# -- (a) and (b): a real controller --------------------------------------------------------------


@contextlib.contextmanager
def controller_on(work: Path, names: list[str], *, interval: float, webhook: bool,
                  workers: int, client: docker.DockerClient,
                  prefix: str) -> Iterator[tuple[Repo, Controller, DbView]]:  # fmt: skip
    """A repository of ``names`` and a controller following it, converged; then stopped (by
    pid) and the engine cleaned, whatever happened."""
    repo = Repo(work / "repo", names)
    controller = Controller(work, repo, interval=interval,
                            port=free_port() if webhook else None, workers=workers)  # fmt: skip
    view: DbView | None = None
    try:
        start = time.perf_counter()
        controller.start()
        view = DbView(controller.db)
        wait(lambda: view.all_applied(names), 60 + 3 * len(names), 0.2,
             f"{len(names)} stacks applied")  # fmt: skip
        print(f"  {len(names)} stacks converged {time.perf_counter() - start:.1f} s after start"
              f" ({workers} workers)")  # fmt: skip
        yield repo, controller, view
    except BaseException:
        failed = view.failed() if view is not None else []
        tail = controller.log.read_text()[-3000:] if controller.log.exists() else ""
        print(f"  FAILED commands: {failed[:3]}\n  controller log, last lines:\n{tail}")
        raise
    finally:
        if view is not None:
            view.close()
        controller.stop()
        removed = remove_prefix(client, prefix)
        print(f"  controller stopped; {removed} containers removed")


def push_once(repo: Repo, stack: str, rev: int) -> tuple[str, float, float]:
    """Edit ``stack``, commit, push: (sha, wall time push started, wall time push returned)."""
    repo.write(stack, rev)
    sha = repo.commit(f"{stack}: REV={rev}")
    started = time.time()
    repo.push()
    return sha, started, time.time()


def webhook_case(work: Path, stacks: int, pushes: int, workers: int,
                 client: docker.DockerClient, prefix: str) -> None:  # fmt: skip
    names = [f"{prefix}-w{stacks}-s{i:03d}" for i in range(stacks)]
    print(f"\n(a) webhook, {stacks} stack(s), {pushes} pushes, --git-interval 3600")
    hook_lat, push_lat, push_cost, post_rtt = [], [], [], []
    to_asked, to_fetched, to_apply = [], [], []
    with controller_on(work, names, interval=3600, webhook=True, workers=workers,
                       client=client, prefix=prefix) as (repo, ctl, view):  # fmt: skip
        before = _histogram(ctl.metrics() or "")
        ctl.new_log_lines()
        for n in range(pushes):
            stack = names[n % stacks]
            sha, pushed_at, pushed = push_once(repo, stack, n + 1)
            hook_at = time.time()
            ctl.hook(sha, str(repo.bare))
            posted = time.time()
            created, version = wait(functools.partial(view.apply_of, stack, sha), 60, 0.005,
                                    f"the APPLY of {sha[:12]}")  # fmt: skip
            hook_lat.append(created - hook_at)
            push_lat.append(created - pushed_at)
            push_cost.append(pushed - pushed_at)
            post_rtt.append(posted - hook_at)
            wait(functools.partial(view.applied, stack, version), 120, 0.05,
                 f"{stack} {version} applied")  # fmt: skip
            asked = fetched = None
            for line in ctl.new_log_lines():
                if asked is None and "fetch asked" in line["message"]:
                    asked = _log_ts(line)
                if f"-> {sha[:12]}" in line["message"]:
                    fetched = _log_ts(line)
            if asked is not None and fetched is not None:
                to_asked.append(asked - hook_at)
                to_fetched.append(fetched - asked)
                to_apply.append(created - fetched)
        after = _histogram(ctl.metrics() or "")
    note(f"{stacks} stack(s): hook POST sent -> APPLY recorded", hook_lat)
    note(f"{stacks} stack(s): git push started -> APPLY recorded", push_lat)
    note(f"{stacks} stack(s):   git push (local bare repository)", push_cost)
    note(f"{stacks} stack(s):   hook POST round trip (202)", post_rtt)
    note(f"{stacks} stack(s):   POST sent -> 'fetch asked' logged", to_asked)
    note(f"{stacks} stack(s):   'fetch asked' -> fetched (log)", to_fetched)
    note(f"{stacks} stack(s):   fetched -> APPLY recorded", to_apply)
    count, total = after[0] - before[0], after[1] - before[1]
    if count:
        print(f"  controller's stackctl_git_push_to_apply_seconds: {int(count)} pushes,"
              f" mean {total / count * 1000:.0f} ms (trigger -> recorded)")  # fmt: skip


def _histogram(metrics: str) -> tuple[float, float]:
    """(count, sum) of stackctl_git_push_to_apply_seconds."""
    count = total = 0.0
    for line in metrics.splitlines():
        if line.startswith("stackctl_git_push_to_apply_seconds_count"):
            count = float(line.split()[-1])
        elif line.startswith("stackctl_git_push_to_apply_seconds_sum"):
            total = float(line.split()[-1])
    return count, total


def polling_case(work: Path, pushes: int, interval: float, workers: int,
                 client: docker.DockerClient, prefix: str, rng: random.Random) -> None:  # fmt: skip
    name = f"{prefix}-p-s000"
    print(f"\n(b) polling only, 1 stack, {pushes} pushes, --git-interval {interval:g}, no webhook")
    latencies = []
    with controller_on(work, [name], interval=interval, webhook=False, workers=workers,
                       client=client, prefix=prefix) as (repo, _ctl, view):  # fmt: skip
        for n in range(pushes):
            time.sleep(rng.uniform(0, interval))  # anywhere in the fetch interval
            sha, _started, pushed = push_once(repo, name, n + 1)
            created, version = wait(functools.partial(view.apply_of, name, sha), 60, 0.005,
                                    f"the APPLY of {sha[:12]}")  # fmt: skip
            latencies.append(created - pushed)
            wait(functools.partial(view.applied, name, version), 120, 0.05,
                 f"{version} applied")  # fmt: skip
    note(f"poll {interval:g} s: git push returned -> APPLY recorded", latencies)
    over = sum(1 for v in latencies if v > interval + 1)
    print(f"  bound interval + 1 s = {interval + 1:g} s: {over} of {len(latencies)} pushes over it")


# -- (c): in process, no engine ------------------------------------------------------------------


def fetch_case(work: Path, stacks: int, runs: int) -> None:
    print(f"\n(c) in process, a repository of {stacks} stacks (no engine, no worker)")
    names = [f"gitlat-c-s{i:04d}" for i in range(stacks)]
    start = time.perf_counter()
    repo = Repo(work / "repo", names)
    print(f"  repository built and pushed in {time.perf_counter() - start:.1f} s")
    spec = RepositorySpec(name="bench", url=str(repo.bare), path="stacks", interval_s=3600)

    fetcher = Fetcher(spec, state_dir=work / "fetcher")
    cold = _timed(fetcher.fetch)
    unchanged = []
    for _ in range(runs):
        seconds, result = _timed_result(fetcher.fetch)
        assert not result.changed
        unchanged.append(seconds)
    note(f"{stacks} stacks: Fetcher.fetch() cold (clone + checkout)", [cold])
    note(f"{stacks} stacks: Fetcher.fetch() unchanged", unchanged)

    with Database(db_path=work / "puller.db") as db:
        puller = Puller(db, spec, state_dir=work / "puller", declared_by="bench")
        puller.declare()
        first = _timed(puller.pull)
        recorded = _versions(db)
        note(f"{stacks} stacks: Puller.pull() first ({recorded} versions recorded)", [first])
        idle = []
        for _ in range(runs):
            last = puller.watcher.last
            idle.append(_timed(puller.pull))
            if puller.watcher.last is not last or _versions(db) != recorded:
                raise SystemExit("an unchanged pull reloaded the checkout or recorded a version")
        note(f"{stacks} stacks: Puller.pull() unchanged (no reload)", idle)
        changed, fetched, reloaded = [], [], []
        for n in range(runs):
            repo.write(names[n], n + 1)
            repo.commit(f"edit {names[n]}")
            repo.push()
            fetched.append(_timed(fetcher.fetch))  # the git part alone, in its own state dir
            misses = puller.watcher.cache.misses
            changed.append(_timed(puller.pull))
            reloaded.append(puller.watcher.cache.misses - misses)
            recorded += 1
            if _versions(db) != recorded:
                raise SystemExit(f"a one-stack commit recorded {_versions(db) - recorded + 1}")
        note(f"{stacks} stacks: Fetcher.fetch() after a one-stack commit", fetched)
        note(f"{stacks} stacks: Puller.pull() after a one-stack commit", changed)
        print(f"  entries the watcher loaded again per one-stack commit: {sorted(set(reloaded))}"
              f" of {stacks} (each commit is a new checkout folder)")  # fmt: skip


def _timed(fn: Callable[[], object]) -> float:
    return _timed_result(fn)[0]


def _timed_result(fn: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _versions(db: Database) -> int:
    with contextlib.closing(sqlite3.connect(db.path)) as conn:
        return conn.execute("SELECT count(*) FROM stack_versions").fetchone()[0]


# -- main ----------------------------------------------------------------------------------------


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks: controller, engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pushes", type=int, default=20, help="webhook pushes per repository")
    parser.add_argument("--stacks", default="1,100", help="repository sizes for the webhook")
    parser.add_argument("--poll-pushes", type=int, default=10)
    parser.add_argument("--poll-interval", type=float, default=2)
    parser.add_argument("--fetch-stacks", type=int, default=1000)
    parser.add_argument("--fetch-runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="5 pushes, stacks 1,10, 4 polled pushes, 200 stacks fetched",
    )
    args = parser.parse_args()
    if args.quick:
        args.pushes, args.stacks, args.poll_pushes, args.fetch_stacks = 5, "1,10", 4, 200
        args.fetch_runs = 3
    sizes = [int(s) for s in args.stacks.split(",") if s.strip()]
    signal.signal(signal.SIGTERM, _terminated)
    try:
        client = docker.from_env()
        client.ping()
        client.images.get(IMAGE)
    except (docker.errors.DockerException, OSError) as e:
        print(f"needs the engine and {IMAGE} (scripts/engine.sh): {e}")
        sys.exit(2)
    if shutil.which("git") is None:
        print("needs git (apt-get install git)")
        sys.exit(2)
    seed = args.seed if args.seed is not None else secrets.randbits(32)
    prefix = f"gitlat{secrets.token_hex(3)}"
    load = os.getloadavg()
    git_version = git(Path.cwd(), "--version")
    print(f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()}"
          f" CPUs; {git_version}; prefix {prefix}; seed {seed}")  # fmt: skip
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="git-latency-") as tmp:
        try:
            for size in sizes:
                webhook_case(Path(tmp) / f"webhook-{size}", size, args.pushes, args.workers,
                             client, prefix)  # fmt: skip
            polling_case(Path(tmp) / "polling", args.poll_pushes, args.poll_interval,
                         args.workers, client, prefix, random.Random(seed))  # fmt: skip
            fetch_case(Path(tmp) / "fetch", args.fetch_stacks, args.fetch_runs)
        finally:
            remove_prefix(client, prefix)
    table()
    load = os.getloadavg()
    print(f"\nload average at end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f};"
          f" total {time.perf_counter() - began:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()
