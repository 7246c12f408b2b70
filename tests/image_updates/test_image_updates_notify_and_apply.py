"""Image updates against a real registry: a tag that moves in the registry is said once
(``notify``) or becomes a version pinning the new digest, applied, and undone by a rollback
(``apply``). The stack runs ``<registry>/<prefix>/app:1``; a new image is then pushed under the
same tag "from elsewhere" (this engine keeps ``:1`` on the old image and has no trace of the new
one), so the apply really pulls it by digest."""

from __future__ import annotations

from typing import Any

from controller.backends.shared.registry import RegistryDigests
from controller.commands.operations import rollback
from controller.delivery.image_updates import AVAILABLE, CREATED_BY, UPDATED, ImageUpdateChecker
from controller.models import CommandStatus, CommandType

SLEEPER = {"command": ["sleep", "3600"], "init": True}


def _run_stack(h: Any, name: str, app: Any, policy: str) -> None:
    desired = h.stack(
        name,
        {"services": {"web": {"image": app.tag, **SLEEPER}}},
        imageUpdates={"policy": policy, "interval": "10m"},
    )
    outcome = h.apply(desired)
    assert outcome.command.status is CommandStatus.DONE, outcome.error


def _checker(h: Any, docker_client: Any, woken: list[int] | None = None) -> ImageUpdateChecker:
    return ImageUpdateChecker(
        h.db,
        engine=h.engine,
        digests=RegistryDigests(docker_client),
        root=h.tmp,
        on_enqueue=lambda: (woken if woken is not None else []).append(1),
    )


def _events(h: Any, name: str, *reasons: str) -> list[Any]:
    return [e for e in h.db.events.list(stack_id=name, limit=100).items if e.reason in reasons]


def _running_image(h: Any, name: str) -> str:
    (container,) = h.engine.observe(name).containers
    return container.image_id


def test_notify_says_a_new_digest_once(h, app, engine_janitor, test_images, docker_client):
    name = engine_janitor.project("notify")
    _run_stack(h, name, app, "notify")
    checker = _checker(h, docker_client)

    quiet = checker.round()
    assert quiet.checked == [name] and quiet.found == []
    assert _events(h, name, AVAILABLE) == []

    _, new_digest = app.publish_new(test_images.v2)
    found = checker.round(force=True)
    assert [(f.service, f.running, f.available) for f in found.found] == [
        ("web", app.old_digest, new_digest)
    ]
    (event,) = _events(h, name, AVAILABLE)
    assert event.data == {
        "service": "web",
        "image": app.tag,
        "running": app.old_digest,
        "available": new_digest,
    }
    assert event.message.startswith(f"web: {app.tag} has a new digest {new_digest[:19]}")
    assert f"(running {app.old_digest[:19]}" in event.message

    checker.round(force=True)  # the same digest again: nothing new to say
    assert len(_events(h, name, AVAILABLE)) == 1
    # A restarted controller remembers it from the events, not from memory.
    _checker(h, docker_client).round()
    assert len(_events(h, name, AVAILABLE)) == 1
    # Notify changes nothing: no version, no command, the same image running.
    assert h.db.stacks.require(name).current_version == h.db.stacks.require(name).applied_version
    assert _running_image(h, name) == app.old
    # Not due before its interval (10 minutes) unless forced.
    assert checker.round().checked == []

    # Switched to apply in the files: the digest only said so far is applied now.
    _run_stack(h, name, app, "apply")
    switched = checker.round(force=True)
    assert len(switched.recorded) == 1, switched
    (updated,) = _events(h, name, UPDATED)
    assert updated.data["available"] == new_digest


def test_apply_pins_the_new_digest_and_a_rollback_returns_to_the_old(
    h, app, engine_janitor, test_images, docker_client
):
    name = engine_janitor.project("apply")
    _run_stack(h, name, app, "apply")
    first = h.db.stacks.require(name).applied_version
    woken: list[int] = []
    checker = _checker(h, docker_client, woken)
    assert checker.round().recorded == []

    new_image, new_digest = app.publish_new(test_images.v2)
    report = checker.round(force=True)
    stack = h.db.stacks.require(name)
    assert report.recorded == [f"{name} {stack.current_version}"] and woken == [1]
    pinned = h.db.stack_versions.get(name, stack.current_version)
    assert pinned.metadata.created_by == CREATED_BY
    assert pinned.compose.services["web"]["image"] == f"{app.tag}@{new_digest}"
    (queued,) = h.db.commands.list(stack_id=name, status=CommandStatus.PENDING).items
    assert queued.type is CommandType.APPLY_STACK_VERSION
    (event,) = _events(h, name, UPDATED)
    assert event.data["available"] == new_digest and event.data["running"] == app.old_digest

    applied = h.worker.run_next()  # the queued APPLY: pulls repo:1@digest, recreates
    assert applied.command.status is CommandStatus.DONE, applied.error
    assert _running_image(h, name) == new_image
    pulls = [m for m in h.log_messages(applied) if m.startswith("pull ")]
    assert pulls and pulls[0].startswith(f"pull {app.tag}@{new_digest}: "), pulls
    assert h.db.stacks.require(name).applied_version == pinned.version

    # Up to date now, and its own pin is followed by tag: nothing to say or record.
    again = checker.round(force=True)
    assert again.checked == [name] and again.found == [] and again.recorded == []

    rollback(h.db, name, first)
    back = h.worker.run_next()
    assert back.command.status is CommandStatus.DONE, back.error
    assert _running_image(h, name) == app.old  # repo:1 still names the old image here

    # The digest it rolled back from was said already (ImageUpdated): not again. A newer one
    # is said, but a stack pinned by a rollback gets no version: the event says why.
    versions = len(h.db.stack_versions.list(name))
    assert _checker(h, docker_client).round().found[0].available == new_digest
    assert _events(h, name, AVAILABLE) == []
    _, newer_digest = app.publish_new(test_images.v1)
    held = checker.round(force=True)
    assert held.recorded == [] and len(h.db.stack_versions.list(name)) == versions
    (said,) = _events(h, name, AVAILABLE)
    assert said.data["available"] == newer_digest
    assert "not applied: the stack is pinned by a rollback" in said.message
