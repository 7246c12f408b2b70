"""A plain ``stackctl get stacks`` is answered before typer is imported (``cli/quick.py``): for
each command line below, the process prints exactly what the typer command prints (stdout,
stderr, exit status); the plain ones are answered without typer, the others fall to typer."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from controller.models import HealthStatus, SyncStatus

PROBE = """
import sys
sys.argv = ["stackctl", *{args!r}]
if {typer_only!r}:
    import controller.cli.quick
    controller.cli.quick.answer = lambda args: False
from controller.cli import main
try:
    main()
finally:
    sys.stderr.write("\\nLOADED TYPER\\n" if "typer" in sys.modules else "\\nNO TYPER\\n")
"""

QUICK = [
    ["get", "stacks", "--db", "{db}"],
    ["get", "stacks", "-o", "wide", "--db", "{db}"],
    ["get", "stacks", "--output", "name", "--db", "{db}"],
    ["get", "stacks", "-A", "--db", "{db}"],
    ["get", "stacks", "--db", "{db}", "--all", "-o", "wide"],
    ["get", "stacks", "blog", "--db", "{db}"],
    ["get", "stacks", "--db", "{db}", "shop", "-A", "-o", "name"],
    ["--db", "{db}", "get", "stacks"],
    ["--db", "{db}", "-o", "wide", "get", "stacks"],
    ["-o", "name", "--db", "{db}", "get", "stacks", "-o", "table"],
    ["--db", "{tmp}/other.db", "get", "stacks", "--db", "{db}"],
    ["get", "stacks"],  # STACKCTL_DB
]

TYPER = [
    ["get", "stacks", "ghost", "--db", "{db}"],
    ["get", "stacks", "--db", "{tmp}/missing.db"],
    ["get", "stacks", "--db", "{tmp}"],
    ["get", "stacks", "-o", "json", "--db", "{db}"],
    ["-o", "yaml", "--db", "{db}", "get", "stacks"],
    ["get", "stacks", "-o", "bogus", "--db", "{db}"],
    ["-o", "bogus", "--db", "{db}", "get", "stacks"],
    ["get", "stacks", "--db={db}"],
    ["get", "stacks", "-oname", "--db", "{db}"],
    ["get", "stacks", "-A", "-A", "--db", "{db}"],
    ["get", "stacks", "shop", "blog", "--db", "{db}"],
    ["get", "stacks", "--", "shop", "--db", "{db}"],
    ["get", "stacks", "--help"],
    ["get", "stacks", "--db"],
    ["get", "--db", "{db}", "stacks"],
    ["get", "versions", "ghost", "--db", "{db}"],
    ["get", "stack", "--db", "{db}"],
]


@pytest.fixture
def database(db, seeded, db_path):
    """``shop``, and ``blog`` deleted; both made long ago, so that AGE does not tick between
    the two runs."""
    db.stacks.update(
        "blog",
        current_version=None,
        applied_version=None,
        sync_status=SyncStatus.SYNCED,
        health_status=HealthStatus.MISSING,
    )
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE stacks SET created_at = '2020-01-01T00:00:00.000000Z'")
    return db_path


def run(args: list[str], *, typer_only: bool, env: dict[str, str]):
    code = PROBE.format(args=args, typer_only=typer_only)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    stderr, _, marker = result.stderr.rstrip("\n").rpartition("\n")
    return (result.returncode, result.stdout, stderr), marker


@pytest.mark.parametrize(
    ("args", "quick"),
    [(a, True) for a in QUICK] + [(a, False) for a in TYPER],
    ids=lambda a: " ".join(a) if isinstance(a, list) else str(a),
)
def test_the_same_as_typer_prints(args, quick, database, tmp_path):
    env = {**os.environ, "STACKCTL_DB": str(database), "COLUMNS": "100"}
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        env.pop(name, None)
    args = [a.format(db=database, tmp=tmp_path) for a in args]
    ours, marker = run(args, typer_only=False, env=env)
    theirs, _ = run(args, typer_only=True, env=env)
    assert ours == theirs
    assert marker == ("NO TYPER" if quick else "LOADED TYPER")
    if quick:
        assert ours[0] == 0 and ("shop" in ours[1] or "blog" in ours[1])


@pytest.mark.parametrize("typer_only", [False, True], ids=["quick", "typer"])
def test_a_reader_gone_ends_it_as_typer_does(typer_only, database):
    """``stackctl get stacks | head`` where ``head`` has gone: exit 1 and no traceback, on
    the quick path as on typer's (click pacifies the closed pipe; so does ``main`` around the
    quick answers, which loads click's wrapper for it)."""
    env = {**os.environ, "STACKCTL_DB": str(database), "COLUMNS": "100"}
    code = PROBE.format(args=["get", "stacks", "-A"], typer_only=typer_only)
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line is written
    try:
        result = subprocess.run(
            [sys.executable, "-c", code],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=60,
        )
    finally:
        os.close(write)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
