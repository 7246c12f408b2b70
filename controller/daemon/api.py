"""The HTTP API and web console the controller serves (``--api``, unless ``--no-api``), and what
it reports of the controller: readiness (``/readyz``) and the engine calls (``/metrics``).

FastAPI and uvicorn are loaded only when the API is served.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from controller.backends.engines import Engines
from controller.db import Database
from controller.desired.engine_spec import LOCAL
from controller.models.errors import StackctlError
from controller.sources.claims import Claims
from controller.sources.following import Sources
from controller.sources.puller import GitStats
from controller.sources.watcher import Watcher

if TYPE_CHECKING:
    from controller.daemon.options import DaemonOptions

log = logging.getLogger("stackctl.controller")


def start_api(
    options: DaemonOptions,
    *,
    readiness: Callable[[], dict[str, bool | str]],
    engines: Engines,
    sources: Sources,
    git_stats: GitStats,
    claims: Claims | None = None,
) -> Any:
    """Serve the API on ``options.api`` (the running server), or nothing when it is ``None``.
    ``claims``: the stack names the controller's sources declare (an apply over the API may
    not take one of them over)."""
    if options.api is None:
        return None
    from controller.daemon.api_engines import controller_side
    from controller.web.api.app import create_app
    from controller.web.api.hosts import HostPolicy
    from controller.web.api.limits import MIB, HookLimits
    from controller.web.api.server import start_server

    host, port = options.api
    app = create_app(
        db_path=options.db,
        token=options.api_token,
        readiness=readiness,
        engine_calls=lambda: engine_calls(engines),
        open_reads=options.api_open_reads,
        on_push=sources.receive_push,
        git_stats=git_stats.snapshot,
        observe=lambda stack, engine: engines.get(engine).observe(stack),
        hosts=HostPolicy.served_as(
            bind=host, public_url=options.public_url, allowed=options.allowed_hosts
        ),
        session_hours=options.console_session_hours,
        access_policy=options.access_policy,
        public_url=options.public_url,
        controller_side=controller_side(options, engines, claims or Claims()),
        oidc=options.oidc,
        hook_limits=HookLimits(
            body_budget=options.api_body_budget * MIB, body_timeout=options.api_body_timeout
        ),
    )
    server = start_server(
        app,
        host=host,
        port=port,
        header_timeout=options.api_header_timeout,
        max_connections=options.api_max_connections,
    )
    log.info(
        "HTTP API and web console on http://%s:%d/ (actions %s%s)",
        host,
        server.port,
        "need the API token" if options.api_token else "off: set STACKCTL_API_TOKEN",
        f"; people sign in at {options.oidc.issuer}" if options.oidc else "",
    )
    return server


def readiness(
    db: Database, *, watcher: Watcher, sources: Sources, engines: Engines
) -> dict[str, bool | str]:
    """What /readyz reports: the database takes a small write (a full disk shows; a read
    would not), every engine answers, the watcher runs and its last pass passed (one that
    failed is being retried). A failing check is the reason, as text."""
    checks: dict[str, bool | str] = {
        "database": True,
        "engine": True,
        "watcher": watcher.readiness(),
        "repositories": sources.readiness(),
    }
    try:
        db.probe_write()
    except StackctlError as e:
        checks["database"] = str(e)
    for engine in engines:  # `engine` is local's; `engine:NAME` each other's
        key = "engine" if engine.name == LOCAL else f"engine:{engine.name}"
        try:
            engine.ping()
            checks[key] = True
        except StackctlError as e:
            checks[key] = str(e)
    return checks


def engine_calls(engines: Engines) -> dict[str, int]:
    """Engine calls by operation, every engine's together (``stackctl_engine_calls``)."""
    total: Counter[str] = Counter()
    for engine in engines:
        total.update(engine.calls.counts)
    return dict(total)
