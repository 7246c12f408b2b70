"""A transient database fault (a full disk: a real, small tmpfs) is retried with the back-off
the log line announces; the dispatcher's wake-ups (it sees a due command every 0.5 s, reads
still work) do not cut it short (issue 24, item 3).

A held write lock would be the other transient fault at hand, but every attempt on it waits out
the 10 s busy timeout first, so wake-ups could not show: a full disk fails each write at once.
The check counts the worker's retry lines over a window and reads the delays they announce; it
times nothing.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.controller_process import wait_for
from helpers.small_disk import SmallDisk, small_disk

from controller.backends.docker import Engine
from controller.daemon.process import Controller, DaemonOptions

pytestmark = pytest.mark.slow

WINDOW = 20.0  # seconds of a full disk watched: ~40 tries at every wake-up, 6 with back-off
RETRY = re.compile(r"^worker 0: .* \(retrying in ([0-9.]+)s\)$")


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def retries(self) -> list[float]:
        return [float(m[1]) for m in map(RETRY.match, list(self.messages)) if m]


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[SmallDisk]:
    with small_disk(tmp_path / "disk", size="8m") as mounted:
        yield mounted


def test_a_full_disk_is_retried_with_the_backoff_the_log_line_says(
    tmp_path: Path, disk: SmallDisk
) -> None:
    # No engine answers (conftest's DOCKER_HOST): the APPLY goes back to the queue with a
    # delay, so a due command is there for the dispatcher to see while the disk is full.
    root = tmp_path / "manifests"
    root.mkdir()
    (root / "web.yaml").write_text(
        "services:\n  app:\n    image: stackctl-test/busybox:1\n    pull_policy: never\n"
    )
    controller = Controller(
        DaemonOptions(manifests=root, db=disk.path / "state" / "stackctl.db", max_failures=50),
        engine=Engine(timeout=2),
    )
    lines = Lines()
    logger = logging.getLogger("stackctl.controller")
    logger.addHandler(lines)
    ready = threading.Event()
    runner = threading.Thread(target=lambda: controller.run(on_ready=ready.set))
    runner.start()
    try:
        assert ready.wait(30)
        wait_for(
            lambda: any("will retry in" in m for m in lines.messages),
            what="the APPLY to fail on the missing engine and wait in the queue",
        )
        disk.fill()
        wait_for(lines.retries, what="the worker to meet the full disk")
        time.sleep(WINDOW)  # a window to count in, not a duration asserted
        delays = lines.retries()
        assert not controller.stop.is_set()
    finally:
        controller.stop.set()
        controller.wake_workers()
        runner.join(60)
        logger.removeHandler(lines)
        disk.free()
    assert "disk full" in " ".join(lines.messages)
    assert len(delays) <= 8, delays  # 0.5, 1, 2, 4, 8, 16 fit in the window
    assert delays == sorted(delays) and delays[-1] >= 4.0, delays
