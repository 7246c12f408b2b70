"""Convergence speed: stackctl against Debian's docker-compose on the same compose files.

Two stacks: 10 independent busybox services, and a chain of 5 with ``service_started``
dependencies. For each: cold apply, no-op re-apply, one-service change; stackctl and
docker-compose alternate, each operation repeated ``--runs`` times; medians are printed with the
ratio stackctl/compose. stackctl is measured twice: in-process (what the daemon pays: record,
queue, observe, plan, execute) and as the ``stackctl apply`` command (plus Python start-up).

Needs the engine and the test images (``scripts/engine.sh``) and ``docker-compose``
(``apt-get install docker-compose``). Run: ``.venv/bin/python bench/converge.py [--runs N]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's queue (urllib3 needs it): drop this folder
# from the import path before importing anything else.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable

import yaml

from controller.backends.docker import Engine
from controller.commands.worker import Worker
from controller.db import Database
from controller.models import Command, CommandStatus, CommandType
from controller.reconcile.reconciler import ReconcilerOptions
from controller.sources.loader import load_path
from controller.sources.versions import record_version

IMAGE = "stackctl-test/busybox:1"


def independent(n: int = 10) -> dict:
    return {"services": {f"s{i}": _svc(i) for i in range(n)}}


def chain(n: int = 5) -> dict:
    services = {f"s{i}": _svc(i) for i in range(n)}
    for i in range(1, n):
        services[f"s{i}"]["depends_on"] = {f"s{i - 1}": {"condition": "service_started"}}
    return {"services": services}


def _svc(i: int) -> dict:
    return {
        "image": IMAGE,
        "command": ["sleep", "3600"],
        "init": True,
        "environment": {"N": str(i), "REV": "0"},
    }


class StackctlInProcess:
    def __init__(self, folder: Path, db: Path) -> None:
        self.folder, self.db = folder, Database(db_path=db)
        self.worker = Worker(
            self.db,
            Engine(),
            worker_id="bench",
            options=ReconcilerOptions(files_dir=db.parent / "files"),
        )

    def apply(self) -> None:
        [desired] = load_path(self.folder).stacks.values()
        version = record_version(self.db, desired, root=self.folder)
        kind = CommandType.APPLY_STACK_VERSION if version else CommandType.RECONCILE
        self._run(Command(stack_id=desired.name, type=kind))

    def down(self, name: str) -> None:
        self._run(Command(stack_id=name, type=CommandType.DELETE_STACK))

    def _run(self, command: Command) -> None:
        self.db.commands.enqueue(command)
        outcome = self.worker.run_next()
        if outcome is None or outcome.command.status is not CommandStatus.DONE:
            sys.exit(f"stackctl failed: {outcome and outcome.error}")


def run(cmd: list[str]) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")


def timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def write(folder: Path, compose: dict, rev: int) -> None:
    """The folder's name is the project's (docker-compose 1.29 knows no top-level ``name``)."""
    doc = dict(compose)
    doc["services"] = {
        k: {**v, "environment": {**v["environment"], "REV": str(rev) if k == "s0" else "0"}}
        for k, v in compose["services"].items()
    }
    (folder / "compose.yaml").write_text(yaml.safe_dump(doc))


def bench_scenario(label: str, compose: dict, runs: int, work: Path) -> None:
    stackctl_bin = str(Path(sys.executable).with_name("stackctl"))
    results: dict[tuple[str, str], list[float]] = {}

    def note(tool: str, op: str, seconds: float) -> None:
        results.setdefault((tool, op), []).append(seconds)

    for rep in range(runs):
        for tool in ("stackctl", "stackctl-cli", "compose"):
            name = f"bench-{label}-{tool.replace('-', '')}"
            folder = work / name
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            db = work / f"{name}.db"
            db.unlink(missing_ok=True)
            write(folder, compose, rev=0)
            file = str(folder / "compose.yaml")
            if tool == "compose":
                up = ["docker-compose", "-p", name, "-f", file, "up", "-d"]
                apply: Callable[[], None] = lambda up=up: run(up)  # noqa: E731
                down = lambda name=name, file=file: run(  # noqa: E731
                    ["docker-compose", "-p", name, "-f", file, "down", "-t", "10"]
                )
            elif tool == "stackctl":
                inproc = StackctlInProcess(folder, db)
                apply = inproc.apply
                down = lambda inproc=inproc, name=name: inproc.down(name)  # noqa: E731
            else:
                apply = lambda folder=folder, db=db: run(  # noqa: E731
                    [stackctl_bin, "apply", str(folder), "--db", str(db)]
                )
                down = lambda name=name, db=db: run(  # noqa: E731
                    [stackctl_bin, "delete", name, "--db", str(db)]
                )
            note(tool, "cold apply", timed(apply))
            note(tool, "no-op re-apply", timed(apply))
            write(folder, compose, rev=rep + 1)
            note(tool, "one-service change", timed(apply))
            down()

    print(f"\n{label}: {len(compose['services'])} services, {runs} runs, medians in seconds")
    print(
        f"{'operation':<20} {'stackctl':>9} {'stackctl cli':>13} {'compose':>9} "
        f"{'ratio':>7} {'ratio cli':>10}"
    )
    for op in ("cold apply", "no-op re-apply", "one-service change"):
        s = statistics.median(results[("stackctl", op)])
        c = statistics.median(results[("stackctl-cli", op)])
        d = statistics.median(results[("compose", op)])
        print(f"{op:<20} {s:9.3f} {c:13.3f} {d:9.3f} {s / d:7.3f} {c / d:10.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("docker-compose") is None:
        sys.exit("docker-compose is missing: apt-get install docker-compose")
    version = subprocess.run(
        ["docker-compose", "version", "--short"], capture_output=True, text=True
    ).stdout.strip()
    print(f"docker-compose {version}; ratio = stackctl / compose (below 1: stackctl is faster)")
    with tempfile.TemporaryDirectory() as tmp:
        bench_scenario("independent", independent(), args.runs, Path(tmp))
        bench_scenario("chain", chain(), args.runs, Path(tmp))


if __name__ == "__main__":
    main()
