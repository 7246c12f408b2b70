"""What the controller gives its HTTP API for the remote command line
(``web.api.controller_side.ControllerSide``): where uploaded manifests are kept (``uploads/``
beside the database), the manifests' reach, the declared engines, the stack names its own
sources declare, and its engines' answers: ``diff``'s plan (``backends.differences``, the same
lines as a local ``stackctl diff``), ``ps``'s tables, ``describe``'s view (an engine that does
not answer is said, not raised) and the containers' logs (merged in time order, as a local
``stackctl logs`` without ``--follow``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from controller.backends.differences import differences
from controller.backends.engines import Engines
from controller.models.errors import StackctlError
from controller.sources.claims import Claims

if TYPE_CHECKING:
    from controller.daemon.options import DaemonOptions
    from controller.desired import DesiredStack
    from controller.web.api.controller_side import ControllerSide

API_SOURCE = "the HTTP API"  # a name no source of the controller has: all of theirs count


def controller_side(options: DaemonOptions, engines: Engines, claims: Claims) -> ControllerSide:
    from controller.web.api.controller_side import ControllerSide

    return ControllerSide(
        uploads=Path(options.db).parent / "uploads",
        reach=options.reach,
        engines=frozenset(options.engines),
        claimed=lambda: claims.elsewhere(API_SOURCE),
        plan=lambda desired, previous: plan(engines, desired, previous),
        containers=lambda stack, engine, services: engines.get(engine).listing(
            stack, services=services
        ),
        view=lambda stack, engine, services: view(engines, stack, engine, services),
        logs=lambda stack, engine, service, tail, since: logs(
            engines, stack, engine, service=service, tail=tail, since=since
        ),
    )


def plan(
    engines: Engines, desired: DesiredStack, previous: DesiredStack | None
) -> tuple[list[str], int]:
    found = differences(desired, engine=engines.get(desired.engine), previous=previous)
    return found.lines, found.count


def view(engines: Engines, stack: str, engine: str, services: list[str]) -> tuple[Any, str | None]:
    """``describe``'s tables of what runs for ``stack``, and why the engine did not answer."""
    try:
        backend = engines.get(engine)
    except StackctlError as e:  # not declared: laid out by local's kind, said why
        return engines.local.view(None, services=services), str(e)
    try:
        return backend.view(backend.observe(stack), services=services), None
    except StackctlError as e:
        return backend.view(None, services=services), f"engine unreachable: {e}"


def logs(
    engines: Engines,
    stack: str,
    engine: str,
    *,
    service: str | None,
    tail: int | None,
    since: datetime | None,
) -> list[tuple[str, str]] | None:
    """Each source's lines (``tail``, ``since``), in time order; ``None``: nothing of the
    stack (or of ``service``) on the engine."""
    backend = engines.get(engine)
    sources = [s for s in backend.log_sources(stack) if service in (None, s.service)]
    if not sources:
        return None
    lines = sorted(
        (line, source.name)
        for source in sources
        for line in backend.read_logs(source.id, tail=tail, since=since)
    )
    return [(name, line) for line, name in lines]
