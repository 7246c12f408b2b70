"""What observing and resyncing cost per engine: the machine's engine (``local``), a second
dockerd reached over TLS on 127.0.0.1 (``edge``) and a third one, manager of a single-node
Swarm (``prod``, ``kind: swarm``), all in one controller (``Engines``).

The bench starts the extra engines itself (``tests/helpers/dockerd.py``: ``ExtraDockerd``, its
own data root and bridge, ``--tlsverify``, the test images copied in; ``tests/helpers/swarm.py``:
``SwarmDockerd``, the same plus ``swarm init``) and measures:

1. convergence (a side figure): N one-container stacks per engine (``stackctl-test/busybox:1``,
   ``sleep 3600``, ``init: true``, ``network_mode: none``: a default network per stack would
   need N networks, more than the second engine's default address pools hold; on the swarm,
   where a service cannot do without a network, every stack joins one external overlay
   network the bench creates), recorded as
   versions and converged by ``--workers`` ``controller.commands.worker.Worker`` threads sharing one
   database; wall time per engine, the stacks of the other engine not queued meanwhile;
2. observe cost per engine, p50/p95 over ``--runs`` calls: ``Engine.observe(stack)`` of one
   two-container stack (with its images and network names, as the reconciler asks) and
   ``Engine.observe_fleet()`` with the N stacks (and that one) present (on the swarm:
   ``SwarmEngine.observe``, services with their tasks);
3. a no-op resync: ``Resync(db, engines).round(names)`` over the 3N in-sync stacks, ``--rounds``
   times (the first one reads the desired models from the database, the others use its cache):
   wall and CPU time (``time.process_time``) per round, the commands queued (0: all in sync)
   and the engine calls of each engine per round (``engine.calls.counts``, reset before).

Needs the engine, the test images (``scripts/engine.sh``), root and ``dockerd``/``openssl``/``ip``
for the second engine. Everything it creates is removed at the end, even on failure: the
containers and networks of its stacks (named ``engb<hex>-...``) on the machine's engine, and
the extra engines with everything on them (``ExtraDockerd.close()``, ``SwarmDockerd.close()``).
Run: ``.venv/bin/python bench/engines.py [--stacks N] [--rounds R] [--runs K] [--workers W]``.
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's queue: drop this folder from the path;
# the tests' helpers (ExtraDockerd, desired_stack) come from the repository's tests folder.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent / "tests"))

import argparse
import contextlib
import functools
import math
import os
import secrets
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import docker
from helpers.dockerd import ExtraDockerd
from helpers.stacks import desired_stack
from helpers.swarm import SwarmDockerd

from controller.backends.docker import Engine
from controller.backends.docker.planner import image_refs, object_names
from controller.backends.engines import Engines
from controller.backends.swarm.engine import SwarmEngine
from controller.commands.worker import Worker
from controller.db import Database
from controller.desired import DesiredStack
from controller.desired.engine_spec import EngineSpec, TlsFiles
from controller.models import Command, CommandStatus, CommandType, SyncStatus
from controller.reconcile.reconciler import ReconcilerOptions
from controller.reconcile.resync import Resync
from controller.sources.versions import record_version

print = functools.partial(print, flush=True)  # figures must survive a kill
IMAGE = "stackctl-test/busybox:1"
EDGE = "edge"
PROD = "prod"  # the swarm
SHARED = "engb-shared"  # the external overlay network of the swarm's stacks
PROJECT_LABEL = "com.docker.compose.project"


def sleeper() -> dict[str, Any]:
    return {
        "image": IMAGE,
        "command": ["sleep", "3600"],
        "init": True,
        "network_mode": "none",
        "pull_policy": "never",
    }


def on_swarm() -> dict[str, Any]:
    """A one-service stack on the swarm, on the shared overlay network (no IPVS here: dnsrr)."""
    service = {
        "image": IMAGE,
        "command": ["sleep", "3600"],
        "init": True,
        "deploy": {"endpoint_mode": "dnsrr"},
    }
    return {
        "services": {"app": service},
        "networks": {"default": {"external": True, "name": SHARED}},
    }


def pair(*, swarm: bool = False) -> dict[str, Any]:
    """Two services on the stack's default network: what ``observe`` of one stack is timed on."""
    service = {"image": IMAGE, "command": ["sleep", "3600"], "init": True, "pull_policy": "never"}
    if swarm:
        return {
            **on_swarm(),
            "services": {"a": on_swarm()["services"]["app"], "b": on_swarm()["services"]["app"]},
        }
    return {"services": {"a": dict(service), "b": dict(service)}}


def quantiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 (nearest rank) in milliseconds."""
    ordered = sorted(samples)

    def rank(q: float) -> float:
        return 1000 * ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]

    return rank(0.50), rank(0.95)


def timed(fn: Callable[[], Any], runs: int) -> list[float]:
    fn()  # warm-up: the connection, the API version
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def converge(
    db: Database, engines: Engines, tmp: Path, stacks: list[DesiredStack], *, workers: int
) -> tuple[float, Counter[str]]:
    """Record each stack's version, queue its APPLY and run ``workers`` Workers until the queue
    is empty; wall seconds from the first record to the last command's end, and the commands'
    final statuses."""
    options = ReconcilerOptions(files_dir=tmp / "files", wait_timeout=120, worker_limit=workers)
    start = time.perf_counter()
    ids = []
    for desired in stacks:
        version = record_version(db, desired, root=tmp)
        kind = CommandType.APPLY_STACK_VERSION if version else CommandType.RECONCILE
        queued = db.commands.enqueue(Command(stack_id=desired.name, type=kind))
        ids.append(queued.command_id)
    problems: list[BaseException] = []

    def work(index: int) -> None:
        worker = Worker(db, engines, worker_id=f"bench-w{index}", options=options)
        try:
            while worker.run_next() is not None:
                pass
        except BaseException as e:  # reported by the main thread
            problems.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    if problems:
        raise problems[0]
    statuses = Counter(str(db.commands.require(i).status) for i in ids)
    return seconds, statuses


def report_observe(
    name: str, engine: Engine | SwarmEngine, pair_desired: DesiredStack, *, stacks: int, runs: int
) -> None:
    images, names = image_refs(pair_desired), object_names(pair_desired)
    engine.calls.reset()
    one = timed(lambda: engine.observe(pair_desired.name, images=images, names=names), runs)
    per_observe = sum(engine.calls.counts.values()) / (runs + 1)
    engine.calls.reset()
    fleet = timed(engine.observe_fleet, runs)
    per_fleet = sum(engine.calls.counts.values()) / (runs + 1)
    (p50, p95), (f50, f95) = quantiles(one), quantiles(fleet)
    print(
        f"observe    {name:5}  one 2-container stack: p50 {p50:6.1f} ms, p95 {p95:6.1f} ms"
        f" ({per_observe:.0f} calls);  observe_fleet ({stacks + 1} stacks,"
        f" {stacks + 2} {'services' if isinstance(engine, SwarmEngine) else 'containers'}"
        f" of ours): p50 {f50:6.1f} ms, p95 {f95:6.1f} ms"
        f" ({per_fleet:.0f} calls)  [{runs} runs]"
    )


def report_resync(db: Database, engines: Engines, names: list[str], *, rounds: int) -> None:
    resync = Resync(db, engines)
    walls, cpus = [], []
    for n in range(rounds):
        for engine in engines:
            engine.calls.reset()
        cpu, wall = time.process_time(), time.perf_counter()
        done = resync.round(names)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        walls.append(wall)
        cpus.append(cpu)
        calls = "; ".join(
            f"{e.name}: {sum(e.calls.counts.values())} ("
            + ", ".join(f"{op} {k}" for op, k in sorted(e.calls.counts.items()))
            + ")"
            for e in engines
        )
        label = "cold" if n == 0 else "warm"
        print(
            f"resync {n + 1} ({label}): {done.stacks} stacks compared, {done.skipped} skipped,"
            f" {len(done.findings)} finding(s), {len(done.queued)} queued,"
            f" {len(done.unreachable)} unreachable; wall {1000 * wall:7.1f} ms,"
            f" CPU {1000 * cpu:7.1f} ms; engine calls {calls}"
        )
        for finding in done.findings[:3]:
            print(f"    {finding.stack}: {finding.summary}")
    if rounds > 1:
        print(
            f"resync warm rounds: wall median {1000 * statistics.median(walls[1:]):.1f} ms,"
            f" CPU median {1000 * statistics.median(cpus[1:]):.1f} ms"
            f" ({len(names)} stacks on {len(engines)} engines)"
        )


def cleanup_main(api: docker.APIClient, prefix: str) -> None:
    """Remove the containers and networks of our stacks (project label or name with
    ``prefix``) from the machine's engine."""
    for c in api.containers(all=True, filters={"label": PROJECT_LABEL}):
        name = (c.get("Names") or [""])[0].lstrip("/")
        if (c.get("Labels") or {}).get(PROJECT_LABEL, "").startswith(prefix) or name.startswith(
            prefix
        ):
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_container(c["Id"], force=True, v=True)
    for c in api.containers(all=True, filters={"name": prefix}):
        if (c.get("Names") or [""])[0].lstrip("/").startswith(prefix):
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_container(c["Id"], force=True, v=True)
    for n in api.networks(filters={"label": PROJECT_LABEL}):
        if (n.get("Labels") or {}).get(PROJECT_LABEL, "").startswith(prefix) or n[
            "Name"
        ].startswith(prefix):
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_network(n["Id"])


def leftovers(api: docker.APIClient, prefix: str) -> int:
    found = [
        c
        for c in api.containers(all=True, filters={"name": prefix})
        if c["Names"][0].lstrip("/").startswith(prefix)
    ]
    found += [n for n in api.networks() if n["Name"].startswith(prefix)]
    return len(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stacks", type=int, default=100, help="one-container stacks per engine")
    parser.add_argument("--rounds", type=int, default=5, help="resync rounds")
    parser.add_argument("--runs", type=int, default=20, help="timed observe calls per figure")
    parser.add_argument("--workers", type=int, default=4, help="Worker threads converging")
    args = parser.parse_args()
    prefix = "engb" + secrets.token_hex(3)
    main_api = docker.from_env(timeout=300).api
    extra = ExtraDockerd(images=[IMAGE])
    swarm = SwarmDockerd(images=[IMAGE])
    problems: list[str] = []
    try:
        began = time.perf_counter()
        extra.setup()
        print(
            f"edge engine: {extra.host} (TLS, ExtraDockerd, {extra.bridge} on {extra.subnet})"
            f" up with the test image in {time.perf_counter() - began:.1f} s"
        )
        began = time.perf_counter()
        swarm.setup()
        swarm.client().networks.create(SHARED, driver="overlay", attachable=True)
        print(
            f"prod engine: {swarm.host} (TLS, SwarmDockerd: single-node swarm)"
            f" up with the test image in {time.perf_counter() - began:.1f} s"
        )
        specs = {
            EDGE: EngineSpec(
                name=EDGE,
                host=extra.host,
                tls=TlsFiles(ca=extra.ca, cert=extra.cert, key=extra.key),
            ),
            PROD: EngineSpec(
                name=PROD,
                kind="swarm",
                host=swarm.host,
                tls=TlsFiles(ca=swarm.ca, cert=swarm.cert, key=swarm.key),
            ),
        }
        engines = Engines(specs, local=Engine())
        for engine in engines:
            version = engine._client.get().version()
            print(f"engine {engine.name:5}: {engine.spec.describe()}, Docker {version['Version']}")
        print(
            f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f};"
            f" {args.stacks} stacks per engine, {args.workers} workers, prefix {prefix}"
        )
        with tempfile.TemporaryDirectory(prefix="bench-engines-") as folder:
            tmp = Path(folder)
            db = Database(db_path=tmp / "stackctl.db")
            by_engine: dict[str, list[DesiredStack]] = {}
            pairs: dict[str, DesiredStack] = {}
            for name, target in (
                ("local", {}),
                (EDGE, {"target": {"engine": EDGE}}),
                (PROD, {"target": {"engine": PROD}}),
            ):
                short = name[0]
                compose = on_swarm() if name == PROD else {"services": {"app": sleeper()}}
                by_engine[name] = [
                    desired_stack(tmp, f"{prefix}-{short}{n}", compose, **target)
                    for n in range(args.stacks)
                ]
                pairs[name] = desired_stack(
                    tmp, f"{prefix}-{short}pair", pair(swarm=name == PROD), **target
                )
            for name, stacks in by_engine.items():
                seconds, statuses = converge(
                    db, engines, tmp, [*stacks, pairs[name]], workers=args.workers
                )
                count = len(stacks) + 1
                print(
                    f"converge   {name:5}  {count} stacks ({count + 1}"
                    f" {'services' if name == PROD else 'containers'}) in"
                    f" {seconds:6.2f} s ({count / seconds:5.1f} stacks/s);"
                    f" commands {dict(statuses)}"
                )
            synced = sum(1 for s in db.stacks.list() if s.sync_status is SyncStatus.SYNCED)
            print(f"recorded in sync: {synced} of {len(db.stacks.list())} stacks")
            for name in by_engine:
                report_observe(
                    name, engines.get(name), pairs[name], stacks=args.stacks, runs=args.runs
                )
            names = [d.name for stacks in by_engine.values() for d in stacks]
            report_resync(db, engines, names, rounds=args.rounds)
            pending = db.commands.list(status=CommandStatus.PENDING, limit=1000).items
            print(f"commands pending after the rounds: {len(pending)}")
            db.close()
    finally:
        cleanup_main(main_api, prefix)
        left = leftovers(main_api, prefix)
        problems += extra.close()
        problems += swarm.close()
        print(
            f"clean-up: {left} container(s)/network(s) of {prefix} left on the machine's"
            f" engine; edge and prod engines closed"
            + (f" with problems: {'; '.join(problems)}" if problems else ", no problems")
        )


if __name__ == "__main__":
    main()
