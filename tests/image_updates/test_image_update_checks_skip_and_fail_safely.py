"""What the checker leaves alone and how it fails: images that never met a registry and
images pinned in the files are not asked about; a registry that cannot be reached is said once,
not at every interval, and changes nothing; a suspended stack gets the event only; ``run``
checks at start and stops when told."""

from __future__ import annotations

import threading
from typing import Any

from helpers.registry import Registry, RegistryImages

from controller.backends.shared.registry import RegistryDigests
from controller.commands.operations import suspend
from controller.delivery.image_updates import AVAILABLE, CHECK_FAILED, ImageUpdateChecker
from controller.models import CommandStatus

SLEEPER = {"command": ["sleep", "3600"], "init": True}


def _run(h: Any, name: str, services: dict[str, Any], policy: str = "apply") -> None:
    desired = h.stack(
        name, {"services": services}, imageUpdates={"policy": policy, "interval": "10m"}
    )
    outcome = h.apply(desired)
    assert outcome.command.status is CommandStatus.DONE, outcome.error


def _checker(h: Any, digests: Any) -> ImageUpdateChecker:
    return ImageUpdateChecker(h.db, engine=h.engine, digests=digests, root=h.tmp)


def _reasons(h: Any, name: str) -> list[str]:
    return [e.reason for e in h.db.events.list(stack_id=name, limit=100).items]


class CountingDigests(RegistryDigests):
    """Counts the registry questions (a local image must cost none)."""

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.asked: list[str] = []

    def remote_digest(self, ref: str) -> str:
        self.asked.append(ref)
        return super().remote_digest(ref)


def test_local_and_file_pinned_images_are_never_asked_about(
    h, app, engine_janitor, test_images, docker_client
):
    name = engine_janitor.project("skip")
    _run(
        h,
        name,
        {
            "local": {"image": test_images.v1, **SLEEPER},  # imported here: no registry
            "pinned": {"image": f"{app.tag}@{app.old_digest}", **SLEEPER},
            "followed": {"image": app.tag, **SLEEPER},
        },
    )
    digests = CountingDigests(docker_client)
    report = _checker(h, digests).round()
    assert report.checked == [name] and report.found == [] and report.failed == []
    assert digests.asked == [app.tag]  # the followed one only

    app.publish_new(test_images.v2)
    found = _checker(h, digests).round()
    assert [f.service for f in found.found] == ["followed"]  # not the file's pin


def test_an_unreachable_registry_is_said_once_and_changes_nothing(
    h, engine_janitor, test_images, docker_client, tmp_path
):
    name = engine_janitor.project("down")
    with Registry(tmp_path) as gone:  # a registry of this test's own, stopped below
        images = RegistryImages(janitor=engine_janitor, registry=gone)
        image = images.make(test_images.v1, "down")
        images.push(image, "app:1")
        _run(h, name, {"web": {"image": f"{images.repo('app')}:1", **SLEEPER}})
    versions = len(h.db.stack_versions.list(name))
    checker = _checker(h, RegistryDigests(docker_client))
    first = checker.round()
    assert len(first.failed) == 1 and gone.host in first.failed[0], first.failed
    checker.round(force=True)
    assert _reasons(h, name).count(CHECK_FAILED) == 1
    (event,) = [e for e in h.db.events.list(stack_id=name).items if e.reason == CHECK_FAILED]
    assert event.message.startswith(
        f"image update check failed: asking the registry for {gone.host}"
    )
    assert len(h.db.stack_versions.list(name)) == versions


def test_a_suspended_stack_gets_the_event_only(h, app, engine_janitor, test_images, docker_client):
    name = engine_janitor.project("suspended")
    _run(h, name, {"web": {"image": app.tag, **SLEEPER}})
    suspend(h.db, name)
    while (outcome := h.worker.run_next()) is not None:  # what suspending queued, if anything
        assert outcome.command.status is CommandStatus.DONE, outcome.error
    versions = len(h.db.stack_versions.list(name))
    app.publish_new(test_images.v2)
    report = _checker(h, RegistryDigests(docker_client)).round()
    assert report.recorded == [] and len(h.db.stack_versions.list(name)) == versions
    (event,) = [e for e in h.db.events.list(stack_id=name).items if e.reason == AVAILABLE]
    assert event.message.endswith("not applied: the stack is suspended")


def test_run_checks_at_start_and_stops_when_told(h, app, engine_janitor, docker_client):
    name = engine_janitor.project("loop")
    _run(h, name, {"web": {"image": app.tag, **SLEEPER}})
    digests = CountingDigests(docker_client)
    checker = _checker(h, digests)
    stop = threading.Event()
    thread = threading.Thread(target=checker.run, args=(stop,))
    thread.start()
    try:
        deadline = threading.Event()
        for _ in range(100):
            if digests.asked:
                break
            deadline.wait(0.05)
        assert digests.asked == [app.tag]
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
