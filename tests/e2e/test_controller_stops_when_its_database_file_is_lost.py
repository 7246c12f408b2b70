"""``stackctl run`` whose database file is deleted or replaced while it runs stops with one
``error:`` line and exit 1 (its lease renewal checks that the path still names the file it
holds open), rather than run on with a file nobody else sees while a second controller takes
"the" lease on the new one."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from controller.db import Database


def start(tmp_path: Path, db: Path) -> subprocess.Popen[str]:
    (tmp_path / "manifests").mkdir(exist_ok=True)
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "controller", "run", "--no-api", "--manifests",
         str(tmp_path / "manifests"), "--db", str(db)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    deadline = time.monotonic() + 30
    while Database(db_path=db).leases.live() is None:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    time.sleep(0.5)
    return proc


def lose_by_deleting(db: Path, tmp_path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def lose_by_replacing(db: Path, tmp_path: Path) -> None:
    shutil.copy(db, tmp_path / "restored.db")  # a backup restored over it
    os.replace(tmp_path / "restored.db", db)


@pytest.mark.slow
@pytest.mark.parametrize("lose", [lose_by_deleting, lose_by_replacing])
def test_the_controller_stops_with_one_error_line(tmp_path: Path, lose) -> None:
    db = tmp_path / "state" / "stackctl.db"
    proc = start(tmp_path, db)
    try:
        lose(db, tmp_path)
        _, stderr = proc.communicate(timeout=30)  # the lease loop checks every 5 s
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 1, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: the database file {db} was deleted or replaced while the controller ran"
    ], stderr
    assert "Traceback" not in stderr
