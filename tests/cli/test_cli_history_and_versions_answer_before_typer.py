"""A plain ``stackctl history STACK`` table and ``get versions STACK`` listing are answered
before typer is imported (``cli/quick.py``, ``db/plain_reads.list_versions``): for each command
line below, the process prints exactly what the typer command prints (stdout, stderr, exit
status); the plain ones are answered without typer (nor pydantic), the others fall to typer."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest
from helpers.seeding import record

PROBE = """
import sys
sys.argv = ["stackctl", *{args!r}]
if {typer_only!r}:
    import controller.cli.quick
    controller.cli.quick.answer_history = lambda args: False
    controller.cli.quick.answer = lambda args: False
from controller.cli import main
try:
    main()
finally:
    loaded = [m for m in ("typer", "pydantic") if m in sys.modules]
    sys.stderr.write("\\nLOADED " + ",".join(loaded) + "\\n" if loaded else "\\nNOTHING\\n")
"""

QUICK = [
    ["history", "shop", "--db", "{db}"],
    ["history", "--db", "{db}", "shop"],
    ["history", "shop", "-o", "table", "--db", "{db}"],
    ["--db", "{db}", "history", "shop"],
    ["-o", "table", "--db", "{db}", "history", "shop"],
    ["--db", "{tmp}/other.db", "history", "shop", "--db", "{db}"],
    ["history", "git"],  # STACKCTL_DB; a version read from a repository
    ["history", "blog", "--db", "{db}"],
    ["get", "versions", "shop", "--db", "{db}"],
    ["get", "versions", "shop", "-o", "wide", "--db", "{db}"],
    ["get", "versions", "-o", "name", "shop"],
    ["--db", "{db}", "-o", "wide", "get", "versions", "git"],
    ["get", "versions", "blog", "--db", "{db}"],
]

TYPER = [
    ["history", "ghost", "--db", "{db}"],
    ["history", "shop", "--db", "{tmp}/missing.db"],
    ["history", "shop", "--db", "{tmp}"],
    ["history", "shop", "-o", "json", "--db", "{db}"],
    ["-o", "yaml", "--db", "{db}", "history", "shop"],
    ["history", "shop", "-o", "bogus", "--db", "{db}"],
    ["history", "shop", "--db={db}"],
    ["history", "--db", "{db}"],
    ["history", "shop", "blog", "--db", "{db}"],
    ["history", "shop", "--help"],
    ["history", "odd", "--db", "{db}"],  # metadata the view does not vouch for
    ["get", "versions", "odd", "--db", "{db}"],
    ["get", "versions", "ghost", "--db", "{db}"],
    ["get", "versions", "shop", "-o", "json", "--db", "{db}"],
    ["get", "versions", "shop", "-o", "yaml", "--db", "{db}"],
    ["get", "versions", "--db", "{db}"],
    ["get", "versions", "shop", "blog", "--db", "{db}"],
    ["get", "versions", "shop", "--db", "{tmp}/missing.db"],
]


@pytest.fixture
def database(db, seeded, db_path, tmp_path):
    """``shop`` (two versions), ``blog`` (one, pending), ``git`` read from a repository with a
    long subject, and ``odd`` whose metadata has an offset instead of ``Z``."""
    record(db, tmp_path, "git", "stackctl-test/busybox:1", applied=True)
    record(db, tmp_path, "odd", "stackctl-test/busybox:1", applied=False)
    for stack in ("shop", "blog", "git"):  # made long ago: AGE does not tick between the runs
        edit_metadata(db_path, stack, created_at="2020-01-01T00:00:00.123456Z")
    edit_metadata(
        db_path,
        "git",
        git_repository="infra",
        git_ref="main",
        git_commit="0123456789abcdef",
        git_subject="fix: " + "x" * 80,
    )
    edit_metadata(db_path, "odd", created_at="2026-01-01T10:00:00+02:00")
    return db_path


def edit_metadata(db_path, stack: str, **fields: str) -> None:
    """Each of the stack's versions' metadata with ``fields``: metadata is immutable (a
    trigger), which is lifted for the edit and then put back as it was."""
    with sqlite3.connect(db_path) as conn:
        (trigger,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'stack_versions_immutable'"
        ).fetchone()
        conn.execute("DROP TRIGGER stack_versions_immutable")
        rows = conn.execute(
            "SELECT version, metadata FROM stack_versions WHERE stack_id = ?", (stack,)
        ).fetchall()
        for version, metadata in rows:
            edited = json.dumps({**json.loads(metadata), **fields})
            conn.execute(
                "UPDATE stack_versions SET metadata = ? WHERE stack_id = ? AND version = ?",
                (edited, stack, version),
            )
        conn.execute(trigger)


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
    assert (marker == "NOTHING") is quick, marker
    if quick:
        assert ours[0] == 0 and ("VERSION" in ours[1] or "version/" in ours[1])
