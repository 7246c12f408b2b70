"""How soon people are told: the delay from a transition's commit (the outbox message's
``created_at``) to its arrival at a JSON webhook on 127.0.0.1, under a running ``stackctl run
--notify json://...``, over N successive edits of a one-service stack (each edit: a version
recorded, an apply started and succeeded). Also the delay from the file write to the arrival of
``apply.succeeded``, next to the time the stack was recorded applied.

Needs the engine and the test images (``scripts/engine.sh``). Run:
``.venv/bin/python bench/notify.py [--edits N]``. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's queue: drop this folder from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import argparse
import functools
import json
import statistics
import subprocess
import tempfile
import time
from datetime import datetime

import docker
import yaml
from helpers.recorder import Recorder

from controller.db import Database

IMAGE = "stackctl-test/busybox:1"
print = functools.partial(print, flush=True)


def manifest(name: str, rev: int) -> str:
    service = {"image": IMAGE, "command": ["sleep", "3600"], "init": True,
               "environment": {"REV": str(rev)}}  # fmt: skip
    return yaml.safe_dump({"apiVersion": "stackctl/v1", "kind": "Stack",
                           "metadata": {"name": name},
                           "spec": {"compose": {"services": {"app": service}}}})  # fmt: skip


def figures(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms,"
            f" max {ordered[-1] * 1000:.0f} ms (n={len(ordered)})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=20)
    args = parser.parse_args()
    name = f"bench-notify-{int(time.time())}"
    recorder = Recorder()
    arrived: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root, db_path = Path(tmp) / "manifests", Path(tmp) / "stackctl.db"
        root.mkdir()
        log = (Path(tmp) / "run.log").open("w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "controller", "run", "--manifests", str(root), "--db",
             str(db_path), "--no-api", "--notify", f"json://{recorder.base}/hook"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        commit_delays: list[float] = []
        to_told: list[float] = []
        to_applied: list[float] = []
        try:
            time.sleep(2)
            for rev in range(1, args.edits + 1):
                version = f"v{rev}"
                key_prefix = "apply.succeeded:"
                written = time.time()
                (root / f"{name}.yaml").write_text(manifest(name, rev))
                applied_at = None
                deadline = written + 60
                while time.time() < deadline:
                    for request in recorder.received("/hook"):
                        key = request.headers["x-stackctl-delivery"]
                        arrived.setdefault(key, time.time())
                    done = [k for k in arrived if k.startswith(key_prefix)]
                    if applied_at is None:
                        with Database(db_path=db_path) as db:
                            stack = db.stacks.get(name)
                            if stack and stack.applied_version == version:
                                applied_at = time.time()
                    if len(done) >= rev and applied_at is not None:
                        break
                    time.sleep(0.01)
                told = max(arrived[k] for k in arrived if k.startswith(key_prefix))
                to_told.append(told - written)
                to_applied.append((applied_at or told) - written)
            with Database(db_path=db_path) as db:
                messages = {m["key"]: m for m in db.outbox.messages(limit=10_000)}
            for key, at in arrived.items():
                created = datetime.fromisoformat(messages[key]["created_at"].replace("Z", "+00:00"))
                commit_delays.append(at - created.timestamp())
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            log.close()
            recorder.stop()
            client = docker.from_env()
            for container in client.containers.list(
                all=True, filters={"label": f"com.docker.compose.project={name}"}
            ):
                container.remove(force=True)
            for network in client.networks.list(names=[f"{name}_default"]):
                network.remove()
    kinds: dict[str, int] = {}
    for key in arrived:
        kinds[key.split(":")[0]] = kinds.get(key.split(":")[0], 0) + 1
    print(f"notify: {args.edits} edits, messages {json.dumps(kinds, sort_keys=True)}")
    print(f"notify: commit -> arrival at the webhook: {figures(commit_delays)}")
    print(f"notify: file write -> apply.succeeded arrived: {figures(to_told)}")
    print(f"notify: file write -> stack recorded applied (polled): {figures(to_applied)}")


if __name__ == "__main__":
    main()
