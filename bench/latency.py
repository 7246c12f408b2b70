"""Latency from a file write to (a) the new version and its APPLY recorded, (b) the new
container running, under a running ``stackctl run``; the controller's resident memory with
100 stacks loaded and idle; and (c) the time of (a) with those 100 stacks in the watched root.

20 successive edits of a one-service stack; p50/p95/max printed. Needs the engine and the test
images (``scripts/engine.sh``). Run: ``.venv/bin/python bench/latency.py [--edits N]
[--stacks N]``. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's queue: drop this folder from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import functools
import statistics
import subprocess
import tempfile
import time

import docker
import yaml

from controller.db import Database
from controller.models import CommandType

IMAGE = "stackctl-test/busybox:1"
print = functools.partial(print, flush=True)  # figures must survive a kill


def manifest(name: str, rev: int) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "stackctl/v1",
            "kind": "Stack",
            "metadata": {"name": name},
            "spec": {
                "compose": {
                    "services": {
                        "app": {
                            "image": IMAGE,
                            "command": ["sleep", "3600"],
                            "init": True,
                            "environment": {"REV": str(rev)},
                        }
                    }
                }
            },
        }
    )


def start_controller(root: Path, db: Path, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "controller",
            "run",
            "--manifests",
            str(root),
            "--db",
            str(db),
            "--resync",
            "3600",
            "--debounce",
            "50",
            "--workers",
            "2",
        ],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    wait(lambda: "controller running" in log.read_text(), 60)
    return proc


def wait(check, timeout: float, step: float = 0.002):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise SystemExit("timed out: see the controller log")


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"p50 {statistics.median(ordered) * 1000:7.0f} ms   p95 {p95 * 1000:7.0f} ms   "
        f"max {ordered[-1] * 1000:7.0f} ms"
    )


def latency(work: Path, edits: int) -> None:
    root, db_path = work / "manifests", work / "latency.db"
    root.mkdir()
    name = "bench-latency"
    (root / f"{name}.yaml").write_text(manifest(name, 0))
    proc = start_controller(root, db_path, work / "latency.log")
    client = docker.from_env()
    try:
        with Database(db_path=db_path) as db:
            wait(lambda: _running_version(client, name) == "v1", 60, 0.05)
            recorded, running = [], []
            for rev in range(1, edits + 1):
                label = f"v{rev + 1}"
                start = time.perf_counter()
                (root / f"{name}.yaml").write_text(manifest(name, rev))
                wait(lambda label=label: _applied_queued(db, name, label), 30)
                recorded.append(time.perf_counter() - start)
                wait(lambda label=label: _running_version(client, name) == label, 60, 0.01)
                running.append(time.perf_counter() - start)
        print(f"{edits} edits of a one-service stack")
        print(f"(a) write -> version + APPLY recorded: {percentiles(recorded)}")
        print(f"(b) write -> new container running:    {percentiles(running)}")
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        _remove(client, [name])


def _applied_queued(db: Database, name: str, label: str) -> bool:
    latest = db.stack_versions.latest(name)
    if latest is None or latest.version != label:
        return False
    newest = db.commands.list(stack_id=name, type=CommandType.APPLY_STACK_VERSION, limit=1).items
    return bool(newest) and newest[0].payload.get("version") == label


def _running_version(client: docker.DockerClient, name: str) -> str | None:
    for container in client.api.containers(
        filters={"label": f"com.docker.compose.project={name}", "status": "running"}
    ):
        if container["Names"] == [f"/{name}-app-1"]:
            return container["Labels"].get("io.stackctl.version")
    return None


def memory(work: Path, stacks: int) -> None:
    root, db_path = work / "many", work / "many.db"
    root.mkdir()
    names = [f"bench-mem-{n:03d}" for n in range(stacks)]
    for name in names:
        (root / f"{name}.yaml").write_text(manifest(name, 0))
    client = docker.from_env()
    proc = start_controller(root, db_path, work / "memory.log")
    try:
        with Database(db_path=db_path) as db:
            start = time.perf_counter()
            wait(
                lambda: all(
                    db.stacks.get(n) and db.stacks.get(n).applied_version == "v1" for n in names
                ),
                900,
                0.5,
            )
            converged = time.perf_counter() - start
        time.sleep(5)
        rss = _rss_kib(proc.pid)
        print(
            f"{stacks} stacks (one container each) converged from cold in {converged:.1f} s"
            f" with 2 workers; controller idle RSS {rss / 1024:.1f} MiB"
        )
        with Database(db_path=db_path) as db:  # the watcher's cost grows with the root
            recorded = []
            for rev in range(1, 11):
                label = f"v{rev + 1}"
                start = time.perf_counter()
                (root / f"{names[0]}.yaml").write_text(manifest(names[0], rev))
                wait(lambda label=label: _applied_queued(db, names[0], label), 30)
                recorded.append(time.perf_counter() - start)
        print(
            f"(c) 10 edits of one stack among {stacks}: write -> version + APPLY recorded:"
            f" {percentiles(recorded)}"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=120)
        _remove(client, names)


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise SystemExit("no VmRSS")


def _remove(client: docker.DockerClient, names: list[str]) -> None:
    for name in names:
        for c in client.containers.list(
            all=True, filters={"label": f"com.docker.compose.project={name}"}, ignore_removed=True
        ):
            c.remove(force=True)
        for n in client.networks.list(filters={"label": f"com.docker.compose.project={name}"}):
            n.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--stacks", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        latency(Path(tmp), args.edits)
        memory(Path(tmp), args.stacks)


if __name__ == "__main__":
    main()
