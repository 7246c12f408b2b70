"""Stopping a server a test started in its own session (``start_new_session=True``)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess


def stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM to the process group (the server and its children only), SIGKILL if it is still
    there after 5 s; waits for it."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
            return
