"""The delivery settings of a Stack manifest, read and checked: ``spec.notify``,
``spec.rollback``, ``spec.timeout`` and ``spec.imageUpdates``.

Also reads a destination written on the command line or in ``STACKCTL_NOTIFY``
(``parse_destination``): ``URL``, or ``EVENTS=URL`` to filter, e.g.
``apply.failed,rollback=json://127.0.0.1:9000/hook``. Errors name the key; nothing here
sends anything.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from controller.desired.delivery import EVENT_KINDS, ImageUpdates, NotifyTarget, RollbackPolicy
from controller.sources.loader.file_reach import webhook_secret_problem
from controller.sources.loader.units import parse_duration

if TYPE_CHECKING:
    from controller.desired.reach import Reach
    from controller.sources.loader.issues import Issues
    from controller.sources.loader.root import Root

_FAMILIES = frozenset(kind.split(".")[0] for kind in EVENT_KINDS)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_FILTERED = re.compile(r"^([a-z*][a-z.,*]*)=(?=[a-zA-Z][a-zA-Z0-9+.-]*://)")


def event_problem(event: str) -> str | None:
    if event == "*" or event in EVENT_KINDS or event in _FAMILIES:
        return None
    return (
        f"unknown event {event!r}; expected one of {', '.join(EVENT_KINDS)},"
        f" a family ({', '.join(sorted(_FAMILIES))}) or *"
    )


def url_problem(url: str) -> str | None:
    if not _SCHEME.match(url):
        return f"{url!r} is not a URL (expected e.g. json://host/path or ntfy://topic)"
    return None


def parse_destination(text: str) -> NotifyTarget:
    """``URL`` or ``EVENTS=URL``; raises ``ValueError`` saying what is wrong."""
    text = text.strip()
    events: tuple[str, ...] = ()
    match = _FILTERED.match(text)
    if match:
        events = tuple(e for e in match.group(1).split(",") if e)
        text = text[match.end() :]
    for problem in (url_problem(text), *(event_problem(e) for e in events)):
        if problem:
            raise ValueError(problem)
    return NotifyTarget(url=text, events=events)


def read_delivery(spec: Any, issues: Issues, *, root: Root, reach: Reach) -> dict[str, Any] | None:
    """The ``StackSettings`` fields of the delivery keys of a validated ``ManifestSpec``;
    ``None`` when one is wrong (its error is in ``issues``). A destination the operator does
    not allow (``reach``), or a ``secret_file`` outside the root and ``--secrets-dir``, is an
    error at its ``spec.notify`` entry."""
    before = len(issues.errors)
    targets = []
    for index, entry in enumerate(spec.notify):
        url, events = (entry, []) if isinstance(entry, str) else (entry.url, entry.events)
        if problem := (
            url_problem(url)
            or reach.destination_problem(url)
            or webhook_secret_problem(url, root=root, reach=reach)
        ):
            issues.error(("spec", "notify", index), problem)
        for at, event in enumerate(events):
            if problem := event_problem(event):
                issues.error(("spec", "notify", index, "events", at), problem)
        targets.append(NotifyTarget(url=url, events=tuple(events)))
    timeout = _seconds(spec.timeout, ("spec", "timeout"), issues)
    updates = None
    if spec.imageUpdates is not None:
        interval = _seconds(
            spec.imageUpdates.interval, ("spec", "imageUpdates", "interval"), issues
        )
        if interval is not None:
            updates = ImageUpdates(policy=spec.imageUpdates.policy, interval=interval)
    if len(issues.errors) > before:
        return None
    return {
        "notify": tuple(targets),
        "rollback": RollbackPolicy(on_failure=bool(spec.rollback and spec.rollback.onFailure)),
        "timeout": timeout,
        "image_updates": updates,
    }


def _seconds(text: str | None, path: tuple[Any, ...], issues: Issues) -> float | None:
    if text is None:
        return None
    try:
        nanos = parse_duration(text)
    except ValueError as e:
        issues.error(path, str(e))
        return None
    if nanos <= 0:
        issues.error(path, "must be longer than 0s")
        return None
    return nanos / 1e9
