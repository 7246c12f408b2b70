"""An idle controller's CPU, and how soon a file write is recorded (issue 27, goal 4).

A ``stackctl run`` at its DEFAULT settings (only ``--manifests``, ``--db``, ``--allow-empty``
and ``--api`` on a free port given) watches a folder of ``--stacks`` one-service stacks
(``network_mode: none``, their APPLYs done; 0: an empty folder). Once it has settled
(``--settle`` seconds), its CPU (utime + stime of ``/proc/PID/stat``) is read over ``--rounds``
windows of ``--seconds`` each, as % of one core. Then ``--edits`` edits of one stack: the time
from the file's write to its version recorded with its APPLY queued (read from the database
every millisecond, so the figures are a millisecond high at most).

The default resync (every 60 s) runs inside the windows when they are long enough: it is part
of what an idle controller at default settings costs. Needs the engine and the test images
(``scripts/engine.sh``); the containers are removed at the end, even on failure.
Run: ``.venv/bin/python bench/idle.py [--stacks N] [--seconds S] [--rounds R] [--edits E]``.
Prints figures (medians, and the load average, as the machine may be shared); asserts nothing
about time.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's queue: drop this folder from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import contextlib
import functools
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import tempfile
import time

import docker
import yaml

print = functools.partial(print, flush=True)  # figures must survive a kill
IMAGE = "stackctl-test/busybox:1"
TICKS = os.sysconf("SC_CLK_TCK")
PREFIX = "bench-idle"


def manifest(name: str, rev: int = 0) -> str:
    service = {"image": IMAGE, "command": ["sleep", "3600"], "init": True,
               "network_mode": "none", "pull_policy": "never", "environment": {"REV": str(rev)}}
    return yaml.safe_dump({"apiVersion": "stackctl/v1", "kind": "Stack",
                           "metadata": {"name": name},
                           "spec": {"compose": {"services": {"app": service}}}})


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def query(db_path: Path, sql: str, *args: object) -> list[tuple]:
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    except sqlite3.OperationalError:
        return []  # not created yet
    try:
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def applied(db_path: Path) -> int:
    return query(db_path, "SELECT COUNT(*) FROM stacks WHERE applied_version IS NOT NULL"
                 " AND applied_version = current_version")[0][0]


def start(root: Path, db_path: Path, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "controller", "run", "--manifests", str(root), "--db",
         str(db_path), "--allow-empty", "--api", f"127.0.0.1:{free_port()}"],
        stdout=log.open("w"), stderr=subprocess.STDOUT)
    while "controller running" not in log.read_text():
        if process.poll() is not None:
            raise SystemExit(log.read_text())
        time.sleep(0.05)
    return process


def wait_applied(process: subprocess.Popen, db_path: Path, stacks: int, log: Path) -> None:
    deadline = time.monotonic() + 900
    while applied(db_path) < stacks:
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(log.read_text()[-3000:])
        time.sleep(0.2)


def idle_cpu(pid: int, *, seconds: float, rounds: int) -> list[float]:
    shares = []
    for n in range(rounds):
        before, began = cpu_seconds(pid), time.perf_counter()
        time.sleep(seconds)
        share = 100 * (cpu_seconds(pid) - before) / (time.perf_counter() - began)
        shares.append(share)
        print(f"  idle window {n + 1}: {share:.2f} % of a core over {seconds:.0f} s"
              f" (load average {os.getloadavg()[0]:.2f})")
    return shares


def recorded_after_write(root: Path, db_path: Path, name: str, edits: int) -> list[float]:
    """Seconds from each write of ``name`` to its APPLY of the new version queued."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    sql = ("SELECT 1 FROM commands WHERE stack_id = ? AND type = 'APPLY_STACK_VERSION'"
           " AND json_extract(payload, '$.version') = ?")
    times = []
    try:
        for rev in range(1, edits + 1):
            version = query(db_path, "SELECT current_version FROM stacks WHERE stack_id = ?",
                            name)[0][0]
            label = f"v{int(version[1:]) + 1}"
            time.sleep(0.3)  # the previous APPLY's work out of the way
            began = time.perf_counter()
            (root / f"{name}.yaml").write_text(manifest(name, rev))
            while not conn.execute(sql, (name, label)).fetchone():
                if time.perf_counter() - began > 30:
                    raise SystemExit(f"{name} {label}: no APPLY after 30 s")
                time.sleep(0.001)
            times.append(time.perf_counter() - began)
    finally:
        conn.close()
    return times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def remove_containers(client: docker.DockerClient) -> None:
    for container in client.containers.list(all=True, ignore_removed=True):
        if container.labels.get("com.docker.compose.project", "").startswith(PREFIX):
            with contextlib.suppress(docker.errors.NotFound):  # removed meanwhile
                container.remove(force=True)


def run(work: Path, args: argparse.Namespace) -> None:
    root, db_path, log = work / "manifests", work / "stackctl.db", work / "controller.log"
    root.mkdir()
    names = [f"{PREFIX}-{n:04d}" for n in range(args.stacks)]
    for name in names:
        (root / f"{name}.yaml").write_text(manifest(name))
    process = start(root, db_path, log)
    try:
        wait_applied(process, db_path, len(names), log)
        time.sleep(args.settle)
        print(f"{len(names)} stack(s), settled {args.settle:.0f} s:")
        shares = idle_cpu(process.pid, seconds=args.seconds, rounds=args.rounds)
        print(f"idle CPU: median {statistics.median(shares):.2f} % of a core"
              f" (min {min(shares):.2f}, max {max(shares):.2f})")
        if args.edits:
            name = names[0] if names else f"{PREFIX}-edit"
            if not names:
                (root / f"{name}.yaml").write_text(manifest(name))
                wait_applied(process, db_path, 1, log)
            times = recorded_after_write(root, db_path, name, args.edits)
            print(f"write -> version + APPLY queued over {args.edits} edits: p50"
                  f" {1000 * statistics.median(times):.0f} ms, p95"
                  f" {1000 * percentile(times, 0.95):.0f} ms, max {1000 * max(times):.0f} ms")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--settle", type=float, default=10.0)
    parser.add_argument("--edits", type=int, default=30)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average"
          f" {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    client = docker.from_env()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run(Path(tmp), args)
    finally:
        remove_containers(client)


if __name__ == "__main__":
    main()
