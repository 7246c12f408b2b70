"""Wall time of one-shot ``stackctl`` commands, start to exit (Python start-up and imports
included): ``--version``, ``--help``, ``get stacks``, ``history``, ``validate`` and a no-op
``apply`` (the last needs the engine and the test images: ``scripts/engine.sh``; skipped with
a note when no engine answers).

Run: ``.venv/bin/python bench/cli_startup.py [--runs N]``. Prints the median and the fastest
run of each; asserts nothing about time.
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
STACKCTL = [sys.executable, "-m", "controller"]


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


def timed(args: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([*STACKCTL, *args], capture_output=True, check=False)
        times.append(time.perf_counter() - start)
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
        print(f"{'command':<36} {'median':>8} {'fastest':>8}   ({runs} runs each)")
        for args in cases:
            times = timed(args, runs)
            label = " ".join(a if not a.startswith("/") else Path(a).name for a in args)
            label = label.replace(name, "STACK")
            print(f"{label:<36} {statistics.median(times):7.3f}s {min(times):7.3f}s")
        if not engine:
            print("apply (no-op): skipped, no engine answers (scripts/engine.sh starts one)")
        else:
            subprocess.run([*STACKCTL, "delete", name, "--db", db], capture_output=True)


if __name__ == "__main__":
    main()
