"""A database file that cannot be used (garbage bytes, a text file, a directory at the path,
another program's SQLite file, a folder it cannot be created in) is one ``error:`` line naming
the path and what is wrong, exit 1, for every command: no traceback."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

STACKCTL = Path(sys.executable).with_name("stackctl")

COMMANDS = [
    ["get", "stacks"],
    ["get", "versions", "shop"],
    ["get", "commands"],
    ["history", "shop"],
    ["describe", "shop"],
    ["command-logs", "1"],
    ["command-logs", "--stack", "shop"],
    ["sync", "shop", "--no-wait"],
    ["suspend", "shop"],
    ["rollback", "shop"],
    ["run", "--no-api"],
]


def garbage(path: Path) -> str:
    path.write_bytes(os.urandom(16384))
    return "corrupt or not a stackctl database"


def text(path: Path) -> str:
    path.write_text("name,value\n" * 500)
    return "corrupt or not a stackctl database"


def directory(path: Path) -> str:
    path.mkdir()
    (path / "inside").write_text("x")
    return str(path)


def other_program(path: Path) -> str:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    conn.commit()
    conn.close()
    return "another program (tables: moz_places)"


def schema_garbled(path: Path) -> str:
    """A real stackctl database whose first page (the schema) was overwritten."""
    from controller.db import Database
    from controller.models import Event, LogLevel

    with Database(db_path=path) as db:
        for n in range(300):
            db.events.add(Event(level=LogLevel.INFO, reason="Test", message=f"{n}" + "x" * 400))
    with path.open("r+b") as f:
        f.seek(100)  # after the 100-byte header: the schema table's page
        f.write(b"\x0d\xff" * 1000)
    return "corrupt"


def stackctl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKER_HOST": f"unix://{cwd}/no-engine.sock", "COLUMNS": "200"}
    env.pop("STACKCTL_DB", None)
    return subprocess.run(
        [str(STACKCTL), *args], capture_output=True, text=True, timeout=60, cwd=cwd, env=env
    )


@pytest.mark.slow  # eleven stackctl processes per row
@pytest.mark.parametrize("make", [garbage, text, directory, other_program, schema_garbled])
def test_every_command_says_one_error_line_and_exits_1(tmp_path: Path, make) -> None:
    db = tmp_path / "stackctl.db"
    expected = make(db)
    (tmp_path / "manifests").mkdir()
    for command in COMMANDS:
        extra = ["--manifests", "manifests"] if command[0] == "run" else []
        result = stackctl(*command, *extra, "--db", str(db), cwd=tmp_path)
        where = f"stackctl {' '.join(command)} on {make.__name__}"
        assert result.returncode == 1, f"{where}: {result.returncode} {result.stderr}"
        assert "Traceback" not in result.stderr and "╭" not in result.stderr, where
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, f"{where}: {result.stderr}"
        assert str(db) in errors[0] and expected in errors[0], f"{where}: {errors[0]}"
        assert result.stdout == "", where


def test_a_folder_the_database_cannot_be_created_in(tmp_path: Path) -> None:
    """A read-only place (a read-only mount: root ignores a folder's mode bits)."""
    if os.geteuid() == 0:
        target = tmp_path / "ro"
        target.mkdir()
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(target)], capture_output=True
        )
        if mounted.returncode != 0:
            pytest.skip("cannot mount a read-only tmpfs here")
    else:
        target = tmp_path / "locked"
        target.mkdir(mode=0o500)
    try:
        (tmp_path / "manifests").mkdir()
        db = target / "state" / "stackctl.db"
        result = stackctl("run", "--no-api", "--manifests", "manifests", "--db", str(db),
                          cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
        assert f"cannot create the database {db}" in errors[0]
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", "-l", str(target)], check=False)


def test_diff_says_it_with_exit_2(tmp_path: Path) -> None:
    """``diff``'s contract: 0 no differences, 1 differences, 2 any error (a bad database too)."""
    db = tmp_path / "stackctl.db"
    garbage(db)
    result = stackctl("diff", "shop", "--db", str(db), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and str(db) in errors[0], result.stderr
    assert "Traceback" not in result.stderr
