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

``--no-engine`` (issue 27, goal 3) measures the controller's side alone, no engine touched:
1. the ``stackctl run`` process with its engine unreachable (``DOCKER_HOST`` at a closed port,
   as the crash-safety tests run it): the N manifests are written at once and the clock stops
   when every stack has its version recorded and its APPLY queued (the APPLYs then wait for
   the engine); the process's peak RSS;
2. a no-op resync round of the N stacks converged on the in-memory engine
   (``controller.backends.memory``, in this process, on a database of its own): CPU, wall and
   rows written, cold and warm;
3. ``stackctl get stacks`` on that database: the wall time of the process, median of
   ``--rounds``.
Each figure is the median of ``--rounds`` runs (the machine may be shared).

``--recording-while-converging`` (issue 27, goal 3) measures the recording against the real
engine, the workers converging meanwhile in the same process (they compete with the watcher for
the GIL and the cores): a ``stackctl run`` with its default workers, the N manifests dropped at
once, the clock stopped when every stack has its version recorded and its APPLY queued (the
engine has converged only a few of them by then: this machine converges a few stacks a
second); the controller's peak RSS, how many stacks were applied by then and the CPU it
used meanwhile (``--no-engine``'s recording prints that CPU too). Then the
controller is stopped (by its pid) and every container and network it made (named after the
bench's prefix) is removed, even on failure. ``--rounds`` runs, median; keep N small enough
for a shared engine (10,000 manifests converge ~50 stacks in the time they are recorded).
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
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import docker
import yaml

from controller.backends.docker import Engine
from controller.backends.interface import Backend
from controller.db import Database
from controller.reconcile.resync import Resync

print = functools.partial(print, flush=True)  # figures must survive a kill
IMAGE = "stackctl-test/busybox:1"
TICKS = os.sysconf("SC_CLK_TCK")
ENGINE_COMMS = ("dockerd", "containerd")


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

    start, clock, client = time.perf_counter(), CpuClock(), time.process_time()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(stacks)))
    seconds = time.perf_counter() - start
    print(f"engine alone: {stacks} containers created+started in {seconds:7.2f} s"
          f"  ({stacks / seconds:6.1f} /s) from {workers} threads")
    print(f"              client CPU {time.process_time() - client:6.1f} s, {clock.spent()}")
    return seconds


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


def engine_pids() -> list[int]:
    """dockerd's and containerd's processes (readable from /proc on this machine)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() in ENGINE_COMMS:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def engine_cpu() -> float:
    """CPU seconds of dockerd and containerd so far, their reaped children included."""
    total = 0
    for pid in engine_pids():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return total / TICKS


def machine_cpu() -> float:
    """CPU seconds the whole machine spent busy (every process: the machine may be shared)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / TICKS  # all but idle and iowait


class CpuClock:
    """The engine's and the machine's CPU over a stretch of the run (``spent``)."""

    def __init__(self) -> None:
        self.engine, self.machine = engine_cpu(), machine_cpu()

    def spent(self) -> str:
        return (f"engine CPU {engine_cpu() - self.engine:6.1f} s (dockerd+containerd),"
                f" machine {machine_cpu() - self.machine:6.1f} s,"
                f" load average {os.getloadavg()[0]:.1f}")


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
         "--allow-empty", "--api", "127.0.0.1:0"], stdout=log, stderr=subprocess.STDOUT)
    try:
        while "controller running" not in (tmp / "controller.log").read_text():
            if process.poll() is not None:
                raise SystemExit((tmp / "controller.log").read_text())
            time.sleep(0.05)
        start, clock, ours = time.perf_counter(), CpuClock(), cpu_seconds(process.pid)
        for name, text in texts.items():
            (manifests / f"{name}.yaml").write_text(text)
        while (done := applied(db_path)) < stacks:
            if process.poll() is not None:
                raise SystemExit((tmp / "controller.log").read_text()[-3000:])
            time.sleep(0.1)
        seconds = time.perf_counter() - start
        print(f"stackctl:     {stacks} stacks applied in {seconds:7.2f} s"
              f"  ({stacks / seconds:6.1f} stacks/s), peak RSS {peak_rss_mib(process.pid):.0f} MiB")
        print(f"              controller CPU {cpu_seconds(process.pid) - ours:6.1f} s,"
              f" {clock.spent()}")
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


def resync_round(db_path: Path, names: list[str], engine: Backend | None = None) -> None:
    with Database(db_path=db_path) as db:
        resync = Resync(db, engine or Engine())
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


# -- --no-engine: the controller's side alone -----------------------------------------------


def recorded(db_path: Path) -> int:
    """Stacks with a version recorded and an APPLY of it queued (or claimed, or ended)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(
            "SELECT COUNT(*) FROM stacks s WHERE s.current_version IS NOT NULL AND EXISTS ("
            " SELECT 1 FROM commands c WHERE c.stack_id = s.stack_id"
            " AND c.type = 'APPLY_STACK_VERSION')").fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # not created yet
    finally:
        conn.close()


def recording_alone(tmp: Path, *, stacks: int) -> tuple[float, float]:
    """Seconds from the drop of ``stacks`` manifests until each has its version and APPLY, in
    a ``stackctl run`` whose engine does not answer; and its peak RSS (MiB)."""
    manifests, db_path = tmp / "manifests", tmp / "state" / "stackctl.db"
    manifests.mkdir()
    texts = {f"s{n}": manifest(f"s{n}") for n in range(stacks)}
    env = {**os.environ, "DOCKER_HOST": "tcp://127.0.0.1:1"}  # refused at once: no engine
    log = (tmp / "controller.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "controller", "--db", str(db_path), "run", "--manifests",
         str(manifests), "--resync", "3600", "--debounce", "50", "--allow-empty",
         "--api", "127.0.0.1:0"],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        while "controller running" not in (tmp / "controller.log").read_text():
            if process.poll() is not None:
                raise SystemExit((tmp / "controller.log").read_text())
            time.sleep(0.05)
        start, cpu = time.perf_counter(), cpu_seconds(process.pid)
        for name, text in texts.items():
            (manifests / f"{name}.yaml").write_text(text)
        while recorded(db_path) < stacks:
            if process.poll() is not None:
                raise SystemExit((tmp / "controller.log").read_text()[-3000:])
            time.sleep(0.1)
        took, cpu = time.perf_counter() - start, cpu_seconds(process.pid) - cpu
        print(f"  ({cpu:.1f} s of the controller's CPU meanwhile)")
        return took, peak_rss_mib(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)


def converged_on_memory(tmp: Path, *, stacks: int) -> tuple[Path, list[str], Backend]:
    """A database of ``stacks`` stacks recorded by a watcher pass and converged on the
    in-memory engine (in this process): every one in sync."""
    from controller.backends.memory.engine import MemoryEngine
    from controller.commands.worker import Worker
    from controller.reconcile.reconciler import ReconcilerOptions
    from controller.sources.watcher import Watcher

    root, db_path = tmp / "manifests", tmp / "memory.db"
    root.mkdir()
    names = [f"s{n}" for n in range(stacks)]
    for name in names:
        (root / f"{name}.yaml").write_text(manifest(name))
    engine = MemoryEngine()
    engine.pull(IMAGE)  # present, as on the engine (the services say pull_policy: never)
    with Database(db_path=db_path, synchronous="OFF") as db:
        Watcher(db, root).sync()
        worker = Worker(db, engine, worker_id="bench", echo=lambda _: None,
                        options=ReconcilerOptions(files_dir=tmp / "files"))
        while worker.run_next() is not None:
            pass
    return db_path, names, engine


def get_stacks_wall(db_path: Path, *, rounds: int) -> float:
    """Median wall seconds of a ``stackctl get stacks`` process on ``db_path``."""
    walls = []
    for _ in range(rounds):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "controller", "--db", str(db_path), "get",
                        "stacks"], check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - began)
    return statistics.median(walls)


def without_engine(*, stacks: int, rounds: int) -> None:
    """The ``--no-engine`` figures (this module's docstring)."""
    seconds, peaks = [], []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            took, peak = recording_alone(Path(tmp), stacks=stacks)
        seconds.append(took)
        peaks.append(peak)
        print(f"  recording run: {took:7.2f} s, peak RSS {peak:.0f} MiB")
    print(f"recorded:     {stacks} stacks, every version and its APPLY in"
          f" {statistics.median(seconds):7.2f} s (median of {rounds}), peak RSS"
          f" {statistics.median(peaks):.0f} MiB (median; max {max(peaks):.0f})")
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        db_path, names, engine = converged_on_memory(Path(tmp), stacks=stacks)
        print(f"  ({stacks} stacks converged on the memory engine in"
              f" {time.perf_counter() - began:.1f} s)")
        resync_round(db_path, names, engine)
        print(f"get stacks:   {get_stacks_wall(db_path, rounds=max(rounds, 5)):.3f} s wall"
              f" (median of {max(rounds, 5)}), {stacks} stacks")


def cleanup(api: docker.APIClient, prefix: str) -> None:
    listed = api.containers(all=True, filters={"name": prefix})
    ids = [c["Id"] for c in listed if c["Names"][0].lstrip("/").startswith(prefix)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: api.remove_container(i, force=True), ids))
    for network in api.networks(names=[prefix]):
        if network["Name"].startswith(prefix):
            api.remove_network(network["Id"])


# -- --recording-while-converging: the recording against the real engine ---------------------


def recording_converging(tmp: Path, prefix: str, *, stacks: int) -> tuple[float, float, str]:
    """Seconds from the drop of ``stacks`` manifests until each has its version and APPLY, in
    a ``stackctl run`` (default workers) converging them on the engine meanwhile; its peak RSS
    (MiB); the stacks applied by then and the CPU it used meanwhile. The controller is stopped
    before returning."""
    manifests, db_path = tmp / "manifests", tmp / "state" / "stackctl.db"
    manifests.mkdir()
    texts = {f"{prefix}-s{n}": manifest(f"{prefix}-s{n}") for n in range(stacks)}
    log = (tmp / "controller.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "controller", "--db", str(db_path), "run", "--manifests",
         str(manifests), "--resync", "3600", "--debounce", "50", "--allow-empty"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        while "controller running" not in (tmp / "controller.log").read_text():
            if process.poll() is not None:
                raise SystemExit((tmp / "controller.log").read_text())
            time.sleep(0.05)
        start, cpu = time.perf_counter(), cpu_seconds(process.pid)
        for name, text in texts.items():
            (manifests / f"{name}.yaml").write_text(text)
        while recorded(db_path) < stacks:
            if process.poll() is not None:
                raise SystemExit((tmp / "controller.log").read_text()[-3000:])
            time.sleep(0.1)
        took, cpu = time.perf_counter() - start, cpu_seconds(process.pid) - cpu
        done = f"{applied(db_path)} stacks applied by then, {cpu:.1f} s of CPU"
        return took, peak_rss_mib(process.pid), done
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def while_converging(*, stacks: int, rounds: int) -> None:
    """The ``--recording-while-converging`` figures (this module's docstring)."""
    api = docker.from_env(timeout=300).api
    seconds, peaks = [], []
    for _ in range(rounds):
        prefix = "scale" + secrets.token_hex(3)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                took, peak, done = recording_converging(Path(tmp), prefix, stacks=stacks)
        finally:
            cleanup(api, prefix)
        seconds.append(took)
        peaks.append(peak)
        print(f"  recording run: {took:7.2f} s, peak RSS {peak:.0f} MiB, {done}"
              f" (load average {os.getloadavg()[0]:.1f})")
    print(f"recorded:     {stacks} stacks while converging, every version and its APPLY in"
          f" {statistics.median(seconds):7.2f} s (median of {rounds}), peak RSS"
          f" {statistics.median(peaks):.0f} MiB (median)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--idle", type=float, default=30.0)
    parser.add_argument("--settle", type=float, default=60.0)
    parser.add_argument("--no-engine", action="store_true",
                        help="the controller's side alone: no engine touched (see above)")
    parser.add_argument("--recording-while-converging", action="store_true",
                        help="the recording against the real engine, converging (see above)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="runs per figure (--no-engine, --recording-while-converging)")
    args = parser.parse_args()
    if args.no_engine:
        without_engine(stacks=args.stacks, rounds=args.rounds)
        return
    if args.recording_while_converging:
        while_converging(stacks=args.stacks, rounds=args.rounds)
        return
    api = docker.from_env(timeout=300).api
    prefix = "scale" + secrets.token_hex(3)
    try:
        alone = engine_alone(api, prefix, stacks=args.stacks, workers=args.workers)
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
