"""Wall time of one-shot ``stackctl`` commands, start to exit (Python start-up and imports
included): ``--version``, ``--help``, ``get stacks``, ``history``, ``validate`` and a no-op
``apply`` (the last needs the engine and the test images: ``scripts/engine.sh``; skipped with
a note when no engine answers).

In the same run, as the floor and the peer: ``python -c pass`` and ``python -S -c pass`` (the
interpreter's own start, with and without ``site``: no command can start faster) and ``docker
ps`` (when the docker CLI is there). The commands run in rounds, one run of each per round, so
that a machine that slows down or speeds up meanwhile weighs on all of them alike.

Run: ``.venv/bin/python bench/cli_startup.py [--runs N]``. Prints the median and the fastest
run of each, and the goals of issue 13 (item 7) beside them; asserts nothing about time.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's queue: drop this folder from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import functools
import shutil
import statistics
import subprocess
import tempfile
import time

import yaml

print = functools.partial(print, flush=True)  # figures must survive a kill
# The console script as people run it (python -m controller where it is not installed).
_SCRIPT = Path(sys.executable).with_name("stackctl")
STACKCTL = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "controller"]
GOALS = {"--version": 0.060, "get stacks --db stackctl.db": 0.120}  # seconds, issue 13 item 7


def manifest(name: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "stackctl/v1",
            "kind": "Stack",
            "metadata": {"name": name},
            "spec": {
                "compose": {
                    "services": {
                        "app": {
                            "image": "stackctl-test/busybox:1",
                            "command": ["sleep", "3600"],
                            "init": True,
                        }
                    }
                }
            },
        }
    )


def timed_rounds(commands: dict[str, list[str]], runs: int) -> dict[str, list[float]]:
    """Each command ``runs`` times, one run of each per round (after one round not counted)."""
    times: dict[str, list[float]] = {label: [] for label in commands}
    for round_number in range(runs + 1):
        for label, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, capture_output=True, check=False)
            if round_number > 0:
                times[label].append(time.perf_counter() - start)
    return times


def engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="stackctl-bench-") as tmp:
        root = Path(tmp) / "manifests"
        root.mkdir()
        name = f"benchcli{int(time.time())}"
        (root / f"{name}.yaml").write_text(manifest(name))
        db = str(Path(tmp) / "stackctl.db")
        engine = engine_answers()
        if engine:
            first = subprocess.run(
                [*STACKCTL, "apply", str(root), "--db", db], capture_output=True, text=True
            )
            if first.returncode != 0:
                raise SystemExit(f"the first apply failed:\n{first.stdout}{first.stderr}")
        else:
            # A database for the read commands, without an engine: queue only.
            subprocess.run(
                [*STACKCTL, "apply", str(root), "--db", db, "--no-wait"], capture_output=True
            )
        cases = [
            ["--version"],
            ["--help"],
            ["get", "stacks", "--db", db],
            ["history", name, "--db", db],
            ["validate", str(root)],
        ]
        if engine:
            cases.append(["apply", str(root), "--db", db])
        commands = {
            "python -S -c pass": [sys.executable, "-S", "-c", "pass"],
            "python -c pass": [sys.executable, "-c", "pass"],
        }
        if shutil.which("docker") is not None:
            commands["docker ps"] = ["docker", "ps"]
        for args in cases:
            label = " ".join(a if not a.startswith("/") else Path(a).name for a in args)
            commands[label.replace(name, "STACK")] = [*STACKCTL, *args]
        times = timed_rounds(commands, runs)
        print(f"stackctl is {' '.join(STACKCTL)}; {runs} runs each, in rounds")
        print(f"{'command':<36} {'median':>8} {'fastest':>8}   goal")
        for label, measured in times.items():
            goal = GOALS.get(label)
            note = f"<= {goal:.3f}s" if goal else ""
            row = f"{label:<36} {statistics.median(measured):7.3f}s {min(measured):7.3f}s   {note}"
            print(row.rstrip())
        if not engine:
            print("apply (no-op): skipped, no engine answers (scripts/engine.sh starts one)")
        else:
            subprocess.run([*STACKCTL, "delete", name, "--db", db], capture_output=True)


if __name__ == "__main__":
    main()
