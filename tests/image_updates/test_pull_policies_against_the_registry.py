"""Compose's pull policies against a real registry (``<registry>/<prefix>/app:1``).

``always`` pulls at every apply and recreates only when the tag moved in the registry;
``missing`` pulls only an absent image and otherwise keeps what it has even when the registry
moved on; ``never`` fails for good, saying so, while the image is absent; ``build`` builds at
every apply and never asks the registry; ``daily``, ``weekly`` and ``every_<duration>`` pull
when a tag last named the local image longer ago than that (Compose's ``LastTagTime`` rule)."""

from __future__ import annotations

import time
from typing import Any

from controller.models import CommandStatus

SLEEPER = {"command": ["sleep", "3600"], "init": True}


def _web(h: Any, name: str, image: str, policy: str, **more: Any) -> Any:
    return h.stack(
        name, {"services": {"web": {"image": image, "pull_policy": policy, **SLEEPER, **more}}}
    )


def _running(h: Any, name: str) -> str:
    (container,) = h.engine.observe(name).containers
    return container.image_id


def _pulls(h: Any, outcome: Any) -> list[str]:
    return [m for m in h.log_messages(outcome) if m.startswith("pull ")]


def test_always_pulls_every_time_and_recreates_when_the_tag_moved(
    h, app, engine_janitor, test_images
):
    name = engine_janitor.project("always")
    first = h.apply(_web(h, name, app.tag, "always"))
    assert first.command.status is CommandStatus.DONE, first.error
    assert len(_pulls(h, first)) == 1 and _running(h, name) == app.old
    before = h.containers(name)

    same = h.reconcile(name)  # the registry has nothing new: a pull, nothing else
    assert same.command.status is CommandStatus.DONE, same.error
    assert len(_pulls(h, same)) == 1 and h.containers(name) == before

    new_image, _ = app.publish_new(test_images.v2)
    moved = h.reconcile(name)
    assert moved.command.status is CommandStatus.DONE, moved.error
    assert len(_pulls(h, moved)) == 1
    assert _running(h, name) == new_image and h.containers(name) != before
    assert any(f"recreate {name}-web-1: image changed" in m for m in h.log_messages(moved))


def test_missing_pulls_only_an_absent_image(h, app, engine_janitor, test_images):
    name = engine_janitor.project("missing")
    app.images.untag(app.tag)  # absent here, present in the registry
    first = h.apply(_web(h, name, app.tag, "missing"))
    assert first.command.status is CommandStatus.DONE, first.error
    assert _pulls(h, first) == [f"pull {app.tag}: image for web is not present" + _took(h, first)]
    assert _running(h, name) == app.old

    app.publish_new(test_images.v2)  # the registry moves on; what is here stays
    again = h.reconcile(name)
    assert again.command.status is CommandStatus.DONE, again.error
    assert _pulls(h, again) == [] and _running(h, name) == app.old


def test_never_fails_clearly_while_the_image_is_absent(h, app, engine_janitor):
    name = engine_janitor.project("never")
    app.images.untag(app.tag)
    desired = _web(h, name, app.tag, "never")
    refused = h.apply(desired)
    assert refused.command.status is CommandStatus.FAILED
    assert f"image {app.tag} is not present and pull_policy is never" in (refused.error or "")
    assert h.engine.image_id(app.tag) is None  # it did not pull

    app.images.client.api.pull(app.repo, tag="1")  # someone pulls it by hand
    done = h.reconcile(name)
    assert done.command.status is CommandStatus.DONE, done.error
    assert _pulls(h, done) == [] and _running(h, name) == app.old


def test_build_builds_and_never_asks_the_registry(h, app, engine_janitor, test_images):
    name = engine_janitor.project("build")
    folder = h.tmp / f"manifests-{name}"  # where h.stack writes the manifest
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text(f"FROM {test_images.v2}\nLABEL built-by={name}\n")
    desired = _web(h, name, app.tag, "build", build={"context": "."})
    outcome = h.apply(desired, root=folder)
    built = h.engine.image_id(app.tag)
    if built is not None:
        engine_janitor.register(built, "image")
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    assert _pulls(h, outcome) == []
    assert any(m.startswith(f"build {app.tag}") for m in h.log_messages(outcome))
    assert built not in (None, app.old) and _running(h, name) == built
    before = h.containers(name)

    again = h.reconcile(name)  # built again (as Compose builds at every up): the same image
    assert again.command.status is CommandStatus.DONE, again.error
    assert any(m.startswith(f"build {app.tag}: pull_policy build") for m in h.log_messages(again))
    assert _pulls(h, again) == [] and h.containers(name) == before


def test_a_period_pulls_once_the_local_image_is_older_than_it(
    h, app, engine_janitor, test_images
):
    name = engine_janitor.project("every")
    first = h.apply(_web(h, name, app.tag, "every_2s"))
    assert first.command.status is CommandStatus.DONE, first.error
    assert _running(h, name) == app.old  # (a pull here only if the fixture took over 2 s)

    new_image, _ = app.publish_new(test_images.v2)
    time.sleep(2.5)  # the period passes (a functional wait, not a timing assertion)
    due = h.reconcile(name)
    assert due.command.status is CommandStatus.DONE, due.error
    (pull,) = _pulls(h, due)
    assert "pull_policy every_2s (web: last tagged" in pull
    assert _running(h, name) == new_image
    assert any(f"recreate {name}-web-1: image changed" in m for m in h.log_messages(due))


def test_weekly_keeps_a_recent_image_even_when_the_registry_moved(
    h, app, engine_janitor, test_images
):
    name = engine_janitor.project("weekly")
    first = h.apply(_web(h, name, app.tag, "weekly"))
    assert first.command.status is CommandStatus.DONE, first.error
    app.publish_new(test_images.v2)
    again = h.reconcile(name)
    assert again.command.status is CommandStatus.DONE, again.error
    assert _pulls(h, again) == [] and _running(h, name) == app.old


def _took(h: Any, outcome: Any) -> str:
    """The duration suffix of the pull's log line (" (0.04s)"), whatever it is."""
    (line,) = _pulls(h, outcome)
    return line[line.rindex(" (") :]
