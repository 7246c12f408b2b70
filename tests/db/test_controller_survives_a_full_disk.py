"""The controller on a database whose disk fills up (a real, small tmpfs): every thread stays
up, ``readiness()`` (``/readyz``) reports the reason, and once space returns it resumes by
itself, recording the files as they are then, without another file change."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers.small_disk import SmallDisk, small_disk

from controller.backends.docker import Engine
from controller.daemon.process import Controller, DaemonOptions


def wait_for(check: Callable[[], object], *, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def manifest(image: str) -> str:
    return f"services:\n  app:\n    image: {image}\n    pull_policy: never\n"


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[SmallDisk]:
    with small_disk(tmp_path / "disk", size="8m") as mounted:
        yield mounted


@pytest.mark.slow
def test_full_disk_keeps_the_controller_up_and_it_resumes(
    tmp_path: Path, disk: SmallDisk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")  # commands retry
    root = tmp_path / "manifests"
    root.mkdir()
    (root / "web.yaml").write_text(manifest("stackctl-test/busybox:1"))
    controller = Controller(
        DaemonOptions(manifests=root, db=disk.path / "state" / "stackctl.db", resync=1.0),
        engine=Engine(timeout=2),
    )
    ready, codes = threading.Event(), []
    runner = threading.Thread(target=lambda: codes.append(controller.run(on_ready=ready.set)))
    runner.start()
    try:
        assert ready.wait(30)
        db = controller.db

        def latest() -> str | None:
            version = db.stack_versions.latest("web")
            return version.version if version else None

        wait_for(lambda: latest() == "v1", what="v1 recorded")
        assert controller.readiness()["database"] is True

        disk.fill()
        (root / "web.yaml").write_text(manifest("stackctl-test/busybox:2"))
        wait_for(
            lambda: "disk full" in str(controller.readiness()["database"]),
            what="readiness to report the full disk",
        )
        time.sleep(3)  # resyncs (every second), lease renewals and worker retries meet it
        assert not controller.stop.is_set()
        assert all(thread.is_alive() for thread in controller._threads)
        assert latest() == "v1"  # the edit could not be recorded

        disk.free()  # and no file changes: the failed pass is redone by itself
        wait_for(lambda: latest() == "v2", what="the edit recorded once space returned")
        wait_for(lambda: controller.readiness()["database"] is True, what="ready again")
        assert all(thread.is_alive() for thread in controller._threads)
    finally:
        controller.stop.set()
        controller.wake_workers()
        runner.join(60)
    assert codes == [0]
