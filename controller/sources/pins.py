"""The digests the image-update checker pins, and how they survive file changes (pure).

``controller.delivery.image_updates`` records a version whose services' images are pinned to the
registry's new digest (``repo:tag@sha256:...``; ``pin_digests``), marked ``created_by =
CREATED_BY``. The files still say ``repo:tag``, so the next version read from them would drop
the pin and go back to whatever the tag names locally: at a file change, and at every start
(the watcher compares the files' digest with the latest version's). The watcher therefore
records the files' stack with the checker's own pins carried (``carry_pins``) for each service
whose ``repo:tag`` did not change and that the files do not pin themselves: an unchanged file
is then no new version, and an edit elsewhere keeps the updated image. A pin the files wrote
and then removed is never carried (it is not the checker's: ``checker_pins``).

This module reads no database and no engine: it gets versions and stacks.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from controller.desired import DesiredStack
from controller.models import StackVersion
from controller.sources.loader.references import REFERENCE

CREATED_BY = "stackctl image-updates"


def checker_pins(versions: Iterable[StackVersion]) -> frozenset[str]:
    """The ``repo:tag@digest`` images that versions recorded by this checker hold: its pins,
    recognized wherever they are carried (a rollback's copy, a version the watcher recorded
    with them), unlike a pin written in the files. Versions are kept for good, so this never
    forgets one."""
    return frozenset(
        image
        for version in versions
        if version.metadata.created_by == CREATED_BY
        for service in version.compose.services.values()
        if isinstance(service, dict)
        and isinstance(image := service.get("image"), str)
        and "@" in image
    )


def pin_digests(desired: DesiredStack, pins: Mapping[str, str]) -> DesiredStack:
    """``desired`` with each named service's image pinned: ``repo:tag@<digest>``."""
    services = dict(desired.compose.services)
    for name, digest in pins.items():
        image = services[name].image or ""
        match = REFERENCE.fullmatch(image)
        if match is None:
            raise ValueError(f"service {name}: {image!r} is not an image reference")
        ref = f"{match['name']}:{match['tag'] or 'latest'}@{digest}"
        services[name] = services[name].model_copy(update={"image": ref})
    compose = desired.compose.model_copy(update={"services": services})
    return desired.model_copy(update={"compose": compose})


def carry_pins(
    previous: DesiredStack, new: DesiredStack, *, own_pins: Collection[str]
) -> DesiredStack:
    """``new`` (read from the files) with the pins of this checker (``own_pins``) that
    ``previous`` holds kept, for every service whose ``repo:tag`` is unchanged and not pinned
    by the files (see the module); a pin the files wrote and then removed is never carried."""
    pins: dict[str, str] = {}
    for name, service in new.compose.services.items():
        before = previous.compose.services.get(name)
        old = REFERENCE.fullmatch(before.image or "") if before else None
        now = REFERENCE.fullmatch(service.image or "")
        same_tag = (
            old and now and (old["name"], old["tag"]) == (now["name"], now["tag"] or "latest")
        )
        if same_tag and old["digest"] and not now["digest"] and before.image in own_pins:
            pins[name] = old["digest"]
    return pin_digests(new, pins) if pins else new
