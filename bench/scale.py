"""Many stacks at once: N one-service stacks dropped into the watched folder together.

Measured in the same run (issue 13, item 5):
1. the engine's own time: docker-py creates and starts the same N containers (same image,
   command, ``init`` and network mode) from ``--workers`` threads, nothing else;
2. stackctl: a ``stackctl run --workers W`` process; the N manifests are written at once and
   the clock stops when every stack's version is applied (read from the database); the
   controller's peak RSS; then its CPU while idle (``--idle`` seconds from /proc, ``--settle``
   seconds after the last apply, once the engine has calmed down);
3. a resync round of the N in-sync stacks in this process (``controller.reconcile.resync``): CPU
and wall
   time, cold (the desired models read from the database) and warm (cached, as in the daemon),
   and the rows it wrote (the whole database dumped before and after).

Each stack is one ``sleep`` service with ``network_mode: none`` (on both sides): a default network
per stack would need N networks and the engine's address pools hold a few hundred at most, and
the default bridge's subnet may be a /24 (this machine's engine: 254 addresses).
Needs the engine and the test images (``scripts/engine.sh``).
Run: ``.venv/bin/python bench/scale.py [--stacks N] [--workers W] [--idle S]``. Prints figures;
asserts nothing about time. Everything it creates is removed at the end, even on failure.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's queue: drop this folder from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import functools
import os
import secrets
import signal
import sqlite3
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import docker
import yaml

from controller.backends.docker import Engine
from controller.db import Database
from controller.reconcile.resync import Resync

print = functools.partial(print, flush=True)  # figures must survive a kill
IMAGE = "stackctl-test/busybox:1"
TICKS = os.sysconf("SC_CLK_TCK")


def manifest(name: str) -> str:
    service = {"image": IMAGE, "command": ["sleep", "3600"], "init": True,
               "network_mode": "none", "pull_policy": "never"}
    return yaml.safe_dump({"apiVersion": "stackctl/v1", "kind": "Stack",
                           "metadata": {"name": name},
                           "spec": {"compose": {"services": {"app": service}}}})


def engine_alone(api: docker.APIClient, prefix: str, *, stacks: int, workers: int) -> float:
    """Seconds the engine takes to create and start the same containers, ``workers`` at once."""
    def one(n: int) -> None:
        host = api.create_host_config(network_mode="none", init=True)
        created = api.create_container(IMAGE, ["sleep", "3600"], name=f"{prefix}-e{n}-app-1",
                                       labels={"com.docker.compose.project": f"{prefix}-e{n}"},
                                       host_config=host)
        api.start(created["Id"])

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(stacks)))
    return time.perf_counter() - start


def applied(db_path: Path) -> int:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(
            "SELECT COUNT(*) FROM stacks WHERE applied_version IS NOT NULL"
            " AND applied_version = current_version").fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # not created yet
    finally:
        conn.close()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stackctl(
    tmp: Path, prefix: str, *, stacks: int, workers: int, idle: float, settle: float
) -> float:
    manifests, db_path = tmp / "manifests", tmp / "state" / "stackctl.db"
    manifests.mkdir()
    texts = {f"{prefix}-s{n}": manifest(f"{prefix}-s{n}") for n in range(stacks)}
    log = (tmp / "controller.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "controller", "--db", str(db_path), "run", "--manifests",
         str(manifests), "--workers", str(workers), "--resync", "3600", "--debounce", "50",
         "--allow-empty"], stdout=log, stderr=subprocess.STDOUT)
    try:
        while "controller running" not in (tmp / "controller.log").read_text():
            if process.poll() is not None:
                raise SystemExit((tmp / "controller.log").read_text())
            time.sleep(0.05)
        start = time.perf_counter()
        for name, text in texts.items():
            (manifests / f"{name}.yaml").write_text(text)
        while (done := applied(db_path)) < stacks:
            if process.poll() is not None:
                raise SystemExit((tmp / "controller.log").read_text()[-3000:])
            time.sleep(0.1)
        seconds = time.perf_counter() - start
        print(f"stackctl:     {stacks} stacks applied in {seconds:7.2f} s"
              f"  ({stacks / seconds:6.1f} stacks/s), peak RSS {peak_rss_mib(process.pid):.0f} MiB")
        time.sleep(settle)  # the engine and the machine calm down after N starts
        before, began = cpu_seconds(process.pid), time.perf_counter()
        time.sleep(idle)
        used = cpu_seconds(process.pid) - before
        print(f"idle:         {100 * used / (time.perf_counter() - began):.2f} % of a core over"
              f" {idle:.0f} s, {settle:.0f} s after the last apply (resync every 3600 s;"
              f" load average then {os.getloadavg()[0]:.1f})")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert done == stacks
    resync_round(db_path, list(texts))
    return seconds


def resync_round(db_path: Path, names: list[str]) -> None:
    with Database(db_path=db_path) as db:
        resync = Resync(db, Engine())
        with db.reading() as conn:
            before = list(conn.iterdump())
        for label in ("cold", "warm"):
            cpu, wall = time.process_time(), time.perf_counter()
            done = resync.round(names)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            print(f"resync {label}:  {done.stacks} in-sync stacks compared in {cpu:.3f} s CPU"
                  f" ({wall:.3f} s wall), {len(done.queued)} command(s) queued")
        with db.reading() as conn:
            after = list(conn.iterdump())
        changed = len(set(before) ^ set(after))
        print(f"resync rows:  {changed} row(s) written by the two rounds")


def cleanup(api: docker.APIClient, prefix: str) -> None:
    listed = api.containers(all=True, filters={"name": prefix})
    ids = [c["Id"] for c in listed if c["Names"][0].lstrip("/").startswith(prefix)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: api.remove_container(i, force=True), ids))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--idle", type=float, default=30.0)
    parser.add_argument("--settle", type=float, default=60.0)
    args = parser.parse_args()
    api = docker.from_env(timeout=300).api
    prefix = "scale" + secrets.token_hex(3)
    try:
        alone = engine_alone(api, prefix, stacks=args.stacks, workers=args.workers)
        print(f"engine alone: {args.stacks} containers created+started in {alone:7.2f} s"
              f"  ({args.stacks / alone:6.1f} /s) from {args.workers} threads")
        cleanup(api, prefix)
        with tempfile.TemporaryDirectory() as tmp:
            ours = stackctl(Path(tmp), prefix, stacks=args.stacks, workers=args.workers,
                            idle=args.idle, settle=args.settle)
        print(f"ratio:        stackctl / engine alone = {ours / alone:.2f}"
              f" ({args.stacks} stacks, {args.workers} workers)")
    finally:
        cleanup(api, prefix)


if __name__ == "__main__":
    main()
