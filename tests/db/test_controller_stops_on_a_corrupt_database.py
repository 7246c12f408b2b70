"""A database found corrupt while the controller runs stops it, once and clearly (issue 24,
item 3): exit code 1, one ``error:`` line naming the file and what to do, no traceback.

Real pieces: ``stackctl run`` as a subprocess on a real file. The controller starts on a sound
database; then the root page of ``command_logs`` (a table start-up never reads: only a running
command writes its log) is overwritten on disk, and a manifest is written. The watcher records
the version, a worker claims its APPLY and meets the corrupt page at its first log line.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from helpers.controller_process import ControllerProcess, wait_for

from controller.db import Database

pytestmark = pytest.mark.slow


def corrupt_root_page(path: Path, table: str) -> None:
    """Overwrite ``table``'s root b-tree page in the file with bytes no page starts with."""
    with sqlite3.connect(path) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
    conn.close()
    with path.open("r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(b"\xff" * page_size)


def test_a_corrupt_page_met_while_running_stops_with_one_error_line(tmp_path: Path) -> None:
    root = tmp_path / "manifests"
    root.mkdir()
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    db_path = state / "stackctl.db"
    Database(db_path=db_path).close()  # created and checkpointed: every page is in the file
    controller = ControllerProcess(root, db_path).start()
    try:
        corrupt_root_page(db_path, "command_logs")
        (root / "web.yaml").write_text(
            "services:\n  app:\n    image: stackctl-test/busybox:1\n    pull_policy: never\n"
        )
        assert controller.proc is not None
        wait_for(lambda: controller.proc.poll() is not None, what="the controller to stop")
    finally:
        code = controller.stop()
    output = controller.log.read_text()
    assert code == 1, output[-3000:]
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output[-3000:]
    assert str(db_path) in errors[0] and "corrupt" in errors[0], errors
    assert ".recover" in errors[0] and "backup" in errors[0], errors
    assert "Traceback" not in output, output[-3000:]
