"""``stackctl run`` as a subprocess on a temporary directory and database, for the e2e tests."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from controller.db import Database

T = TypeVar("T")


class ControllerProcess:
    def __init__(self, root: Path, db: Path, *, resync: float = 60,
                 extra: tuple = ("--no-api",)) -> None:
        self.root, self.db_path, self.log = root, db, db.with_suffix(".log")
        self.args = [sys.executable, "-m", "controller", "run", "--manifests", str(root),
                     "--db", str(db), "--resync", str(resync), "--debounce", "50", *extra]
        self.proc: subprocess.Popen | None = None

    def start(self) -> ControllerProcess:
        self._log = self.log.open("a")
        self.proc = subprocess.Popen(self.args, stdout=self._log, stderr=subprocess.STDOUT)
        wait_for(lambda: "controller running" in self.log.read_text() or self.proc.poll(),
                 what="the controller to start", timeout=30)
        assert self.proc.poll() is None, self.log.read_text()
        return self

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=60)
        self._log.close()
        return code

    def db(self) -> Database:
        return Database(db_path=self.db_path)


def wait_for(check: Callable[[], T], *, what: str, timeout: float = 60) -> T:
    """Poll ``check`` until it returns something truthy (a functional wait, not a timing test)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)
