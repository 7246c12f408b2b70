"""A watcher pass that fails for real is retried by the watcher itself until it passes, and
``/readyz`` says so meanwhile (issue 24, item 2).

The failure is genuine: the running ``stackctl run`` process's file-descriptor limit is lowered
from outside (``prlimit``) to 3, so every ``open``/``scandir`` it makes fails with EMFILE ("Too
many open files") while what it already holds (its database, its inotify watch, the HTTP
connection this test opened before) keeps working. Then a manifest is edited, once: the pass it
triggers fails; the limit is raised back and nothing else touches a file; the edit must be
recorded by the watcher's own retry, and ``/readyz`` (real HTTP through the controller's API)
answers 503 naming the watcher while the passes fail and 200 after.
"""

from __future__ import annotations

import http.client
import json
import os
import resource
from pathlib import Path

import pytest
from helpers.controller_process import ControllerProcess, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.geteuid() != 0, reason="prlimit: root")]


def manifest(image: str) -> str:
    return (
        "services:\n  app:\n"
        f"    image: {image}\n    pull_policy: never\n    command: [sleep, '3600']\n"
    )


def readyz(conn: http.client.HTTPConnection) -> tuple[int, dict]:
    conn.request("GET", "/readyz")
    response = conn.getresponse()
    return response.status, json.loads(response.read())


def test_a_pass_failing_on_emfile_is_retried_and_readyz_names_the_watcher(
    tmp_path: Path, engine_janitor, test_images, free_port: int
) -> None:
    name = engine_janitor.project("web")
    root = tmp_path / "manifests"
    root.mkdir()
    source = root / f"{name}.yaml"
    source.write_text(manifest(test_images.v1))
    (tmp_path / "state").mkdir()
    controller = ControllerProcess(
        root, tmp_path / "state" / "stackctl.db", extra=("--api", f"127.0.0.1:{free_port}")
    ).start()
    assert controller.proc is not None
    pid = controller.proc.pid
    limits = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    try:
        with controller.db() as db:

            def applied() -> bool:
                stack = db.stacks.get(name)
                return stack is not None and stack.applied_version == "v1"

            wait_for(applied, what="v1 applied")
            # One connection opened now and kept alive (polled well within uvicorn's 5 s):
            # the controller cannot accept a new one while it has no descriptor to spare.
            conn = http.client.HTTPConnection("127.0.0.1", free_port, timeout=30)
            wait_for(lambda: readyz(conn)[0] == 200, what="/readyz 200 before the fault")

            resource.prlimit(pid, resource.RLIMIT_NOFILE, (3, limits[1]))
            source.write_text(manifest(test_images.v2))  # the one change of this test

            def watcher_failing() -> dict | None:
                status, body = readyz(conn)
                return body if status == 503 and body.get("watcher") is False else None

            body = wait_for(watcher_failing, what="/readyz 503 naming the watcher", timeout=30)
            assert "watcher:" in body["reason"], body
            assert "Too many open files" in body["reason"], body
            # The watcher tries again by itself while the fault lasts (more than once).
            wait_for(
                lambda: readyz(conn)[0] == 503
                and controller.log.read_text().count("Too many open files") >= 2,
                what="a second failed pass",
            )
            assert db.stack_versions.latest(name).version == "v1"

            resource.prlimit(pid, resource.RLIMIT_NOFILE, limits)  # and no file is touched
            wait_for(
                lambda: db.stack_versions.latest(name).version == "v2",
                what="the edit recorded once the fault cleared",
            )

            def ready() -> bool:
                fresh = http.client.HTTPConnection("127.0.0.1", free_port, timeout=30)
                try:
                    return readyz(fresh)[0] == 200
                finally:
                    fresh.close()

            wait_for(ready, what="/readyz 200 after the fault")
            conn.close()
    finally:
        if controller.proc.poll() is None:
            resource.prlimit(pid, resource.RLIMIT_NOFILE, limits)
        code = controller.stop()
    assert code == 0, controller.log.read_text()[-3000:]
