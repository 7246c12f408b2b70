"""The chaos run, small: ``bench/chaos.py`` SIGKILLs ``stackctl run`` 8 times at random moments
while 4 stacks are edited (replicas, environment, image, services added and removed, manifests
deleted and re-added), lets the last controller settle and checks the engine and the database.
Every count of its summary must be zero: no FAILED command, no duplicate container of a slot, no
leftover, no stuck command, nothing wrong, no controller that exited by itself.

The script runs as a subprocess (as people run it), named with the janitor's prefix so the
janitor removes whatever it might leave. The seed is random and printed: a failure is replayed
with ``.venv/bin/python bench/chaos.py --kills 8 --stacks 4 --seed S``. N = 100 is the figure of
docs/controller.md and docs/benchmarks.md (``bench/chaos.py`` without options).
"""

from __future__ import annotations

import re
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.engine, pytest.mark.slow]

CHAOS = Path(__file__).resolve().parents[2] / "bench" / "chaos.py"
SUMMARY = re.compile(
    r"^chaos: N=(?P<kills>\d+) kills, (?P<stacks>\d+) stacks, (?P<FAILED>\d+) FAILED, "
    r"(?P<duplicates>\d+) duplicates, (?P<leftovers>\d+) leftovers, (?P<stuck>\d+) stuck, "
    r"(?P<wrong>\d+) wrong, (?P<crashes>\d+) crashes; (?P<settled>settled in [\d.]+ s|NOT settled)",
    re.MULTILINE,
)


def test_eight_sigkills_during_edits_end_converged(engine_janitor, test_images) -> None:
    seed = secrets.randbelow(2**31)
    args = [sys.executable, str(CHAOS), "--kills", "8", "--stacks", "4", "--seed", str(seed),
            "--prefix", engine_janitor.prefix, "--settle", "90"]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)  # the script stops its controller and cleans up
        output, _ = proc.communicate(timeout=120)
        pytest.fail(f"chaos run (seed {seed}) did not end in 240 s:\n{output}")
    found = SUMMARY.search(output)
    assert found, f"no summary line (seed {seed}, exit {proc.returncode}):\n{output}"
    assert found["settled"] != "NOT settled", f"seed {seed}: commands still queued\n{output}"
    counts = {k: int(v) for k, v in found.groupdict().items() if k != "settled"}
    assert (counts["kills"], counts["stacks"]) == (8, 4)
    problems = {k: v for k, v in counts.items() if k not in ("kills", "stacks") and v}
    assert not problems, f"seed {seed}: {problems}\n{output}"
    assert proc.returncode == 0, output
