"""A ``depends_on`` wait and an unrelated stack, one worker (issue 24, item 4).

Stack A: ``db`` whose healthcheck never passes, ``app`` depending on it (``service_healthy``).
Stack B: one container, unrelated. A's APPLY runs on the only worker (as ``stackctl run
--workers 1`` runs it: waits give way); once A waits for its db, B's APPLY is queued, and the
clock runs until B is DONE. Prints B's wait and where A was then. The issue saw B wait 100 s
behind A's 120 s wait; the figure before the fix is about ``--timeout``.

Needs the engine and the test images (``scripts/engine.sh``). Everything it creates is removed
at the end, even on failure. Run: ``.venv/bin/python bench/depends_on_wait.py [--timeout S]``.
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's queue: drop this folder from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import functools
import secrets
import tempfile
import threading
import time

import docker
import yaml

from controller.backends.docker import Engine
from controller.commands.worker import Worker
from controller.db import Database
from controller.models import Command, CommandType
from controller.reconcile.reconciler import ReconcilerOptions
from controller.sources.loader import load_path
from controller.sources.versions import record_version

print = functools.partial(print, flush=True)  # figures must survive a kill
IMAGE = "stackctl-test/busybox:1"
SLEEPER = {"image": IMAGE, "command": ["sleep", "3600"], "init": True, "pull_policy": "never"}


def write(root: Path, name: str, services: dict) -> None:
    (root / f"{name}.yaml").write_text(yaml.safe_dump({
        "apiVersion": "stackctl/v1", "kind": "Stack", "metadata": {"name": name},
        "spec": {"compose": {"services": services}}}))


def cleanup(client: docker.DockerClient, names: list[str]) -> None:
    for name in names:
        label = f"com.docker.compose.project={name}"
        for container in client.containers.list(all=True, filters={"label": label}):
            container.remove(force=True)
        for network in client.networks.list(filters={"label": label}):
            network.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--timeout", type=float, default=60.0, help="the stacks' wait timeout")
    parser.add_argument("--follow-up", type=float, default=10.0, help="as stackctl run's")
    args = parser.parse_args()
    prefix = f"bdep{secrets.token_hex(3)}"
    a, b = f"{prefix}-a", f"{prefix}-b"
    client = docker.from_env()
    stop = threading.Event()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "m"
            root.mkdir()
            write(root, a, {
                "db": {**SLEEPER, "healthcheck": {"test": ["CMD", "false"], "interval": "1s"}},
                "app": {**SLEEPER, "depends_on": {"db": {"condition": "service_healthy"}}}})
            write(root, b, {"web": SLEEPER})
            loaded = load_path(root)
            with Database(db_path=Path(tmp) / "stackctl.db") as db:
                for name in (a, b):
                    record_version(db, loaded.stacks[name], root=root)
                worker = Worker(db, Engine(), worker_id="bench", options=ReconcilerOptions(
                    files_dir=Path(tmp) / "files", wait_timeout=args.timeout,
                    yield_health_wait=True, follow_up_after=args.follow_up, max_failures=1))

                def work() -> None:
                    while not stop.is_set():
                        if worker.run_next() is None:
                            time.sleep(0.05)

                first = db.commands.enqueue(
                    Command(stack_id=a, type=CommandType.APPLY_STACK_VERSION))
                runner = threading.Thread(target=work)
                runner.start()
                while not client.containers.list(all=True, filters={"name": f"{a}-db-1"}):
                    time.sleep(0.05)
                queued = time.perf_counter()
                other = db.commands.enqueue(
                    Command(stack_id=b, type=CommandType.APPLY_STACK_VERSION))
                while not db.commands.require(other.command_id).status.terminal:
                    time.sleep(0.05)
                waited = time.perf_counter() - queued
                status = db.commands.require(other.command_id).status
                then = db.commands.require(first.command_id)
                print(f"B {status} {waited:.1f}s after it was queued (A's wait timeout"
                      f" {args.timeout:.0f}s); A was {then.status} then"
                      f"{': ' + then.error if then.error else ''}")
                if not db.commands.require(first.command_id).status.terminal:
                    db.commands.request_cancel(first.command_id, reason="the bench is over")
                stop.set()
                runner.join()
    finally:
        stop.set()
        cleanup(client, [a, b])


if __name__ == "__main__":
    main()
