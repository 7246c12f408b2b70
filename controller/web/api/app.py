"""``create_app``: the FastAPI application, its probes, its metrics and its error shape.

- ``/healthz``: the process answers. ``/readyz``: the ``readiness`` checks (default: the
  database takes a small write), 200 when all pass, 503 otherwise; the body has each check as
  a boolean and, when one fails, ``reason`` (``"database: disk full: ..."``). A check answers
  ``True``, or ``False``/a string saying why it fails.
- ``/metrics``: Prometheus text from ``controller.web.api.metrics``.
- ``/``: the web console (``controller.web.console``): pages for people, over the same
  repositories, with the same token for its buttons; people sign in to it through an OpenID
  provider when ``oidc`` is given (``/ui/login``, ``/ui/auth/callback``, ``/ui/logout``).
- ``/docs``: Swagger UI 5, its assets served from the ``fastapi-offline`` package (no CDN:
  it works offline; Swagger UI 4, as ``swagger-ui-bundle`` had, cannot read OpenAPI 3.1);
  ``/openapi.json`` is the schema. ReDoc (CDN only) is off.
- ``/api/v1/hooks/git``: push webhooks (``hooks``), verified by each repository's secret, not
  by the bearer token.
- Every request whose ``Host`` is not a name the controller is served as: 400 (``hosts``:
  DNS rebinding).
- With a token set, ``/readyz`` and ``/metrics`` stay open but tell counts and states only
  unless the token is given: no failure texts, no stack, repository or destination labels.
- ``/api/v1/apply`` and ``/api/v1/diff``: a folder of manifests sent by ``stackctl --server``
  (``manifests``); ``/api/v1/stacks/{name}/containers`` and ``.../logs``: what the stack's
  engine says, through the daemon (``engine_reads``).
- ``/api/v1/...``: ``reads`` and ``writes``. Writes need the bearer token (none configured:
  403). Reads need it too when one is configured, unless ``open_reads``; without a token they
  are open. The probes and ``/metrics`` are always open (see above for what they tell).
Every error is JSON ``{"message": ...}``: 404 unknown name, 422 bad parameter (``errors`` lists
them), 401/403 auth, 409 a state that forbids the action, 503 a busy database.
The app never talks to the engine; the daemon passes what it knows (readiness, engine calls).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from controller import __version__
from controller.config.oidc import OidcConfig
from controller.db import InvalidCursorError
from controller.models.errors import (
    ConflictError,
    NotFoundError,
    PermanentError,
    StackctlError,
    TransientError,
)
from controller.models.observed import Snapshot
from controller.models.swarm import SwarmSnapshot
from controller.web.api import audit, engine_reads, hooks, manifests, reads, repositories, writes
from controller.web.api.controller_side import ControllerSide
from controller.web.api.deps import DatabaseHolder, told_everything
from controller.web.api.documented import HOOK_RESPONSES, errors
from controller.web.api.headers import SecurityHeaders, page_policy
from controller.web.api.hosts import HostCheck, HostPolicy
from controller.web.api.identity import PolicySource
from controller.web.api.limits import HookLimits
from controller.web.api.metrics import build_registry
from controller.web.console import mount_console

log = logging.getLogger("stackctl.api")

Readiness = Callable[[], Mapping[str, bool | str]]


def create_app(
    *,
    db_path: Path,
    token: str | None = None,
    readiness: Readiness | None = None,
    engine_calls: Callable[[], Mapping[str, int]] | None = None,
    open_reads: bool = False,
    on_push: hooks.OnPush | None = None,
    git_stats: Callable[[], object] | None = None,
    observe: Callable[[str, str], Snapshot | SwarmSnapshot] | None = None,
    hosts: HostPolicy | None = None,
    session_hours: float = 12.0,
    public_url: str | None = None,
    oidc: OidcConfig | None = None,
    hook_limits: HookLimits | None = None,
    access_policy: Path | None = None,
    controller_side: ControllerSide | None = None,
) -> FastAPI:
    """The API over the database at ``db_path``; write endpoints need ``token`` (none: they
    answer 403), and so do reads unless ``open_reads``. The web console is served at ``/``;
    ``observe(stack, engine)`` (from the daemon) lets its stack pages show the containers (a
    Swarm stack's services and tasks). ``hosts``: the ``Host`` names answered, others 400
    (the daemon always gives it; ``None``, for tests and embedding, answers any). A console
    session lasts ``session_hours``; its cookie is ``Secure`` over https, and always with an
    https ``public_url`` (a TLS proxy in front). ``oidc``: people sign in to the console at
    that OpenID provider (``controller.web.console.sign_in``), back at ``public_url`` (else the
    address their browser used). ``access_policy``: the file binding people signed in to roles
    (``controller.web.api.identity``). ``controller_side``: where uploaded manifests are kept
    and the engine's answers for ``apply``/``diff``/``ps``/``logs`` (``controller_side.py``;
    default: uploads beside the database, no engine)."""
    holder = DatabaseHolder(Path(db_path))
    app = _new_app(holder, refuses_hosts=hosts is not None)
    app.state.database = holder
    app.state.token = token or None
    app.state.open_reads = open_reads
    app.state.policy = PolicySource(access_policy)
    # people sign in through OpenID Connect: their sessions carry this digest (identity)
    app.state.oidc_digest = oidc.session_digest if oidc is not None else None
    app.state.session_hours = session_hours
    app.state.secure_cookies = (public_url or "").startswith("https://")
    app.state.public_url = public_url
    app.state.oidc = oidc
    app.state.on_push = on_push
    hooks.configure(app, hook_limits)  # the webhook bodies' budget, deadline and threads
    app.state.observe = observe
    app.state.controller_side = controller_side or ControllerSide.beside(db_path)
    app.state.stopping = threading.Event()  # set by ApiServer.stop: live streams end
    _add_error_handlers(app)
    _add_probes(app, holder, readiness)
    _add_metrics(app, holder, engine_calls, git_stats)
    _add_docs(app)
    _add_routers(app)
    app.add_middleware(SecurityHeaders)
    if hosts is not None:  # outermost: a refused Host reaches nothing
        app.add_middleware(HostCheck, policy=hosts)
    return app


def _new_app(holder: DatabaseHolder, *, refuses_hosts: bool) -> FastAPI:
    """The bare application: its title and version, no CDN pages, the database closed when it
    stops; a 400 documented on every route when a ``Host`` may be refused."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        holder.close()

    return FastAPI(
        title="stackctl",
        version=__version__,
        description="Stacks, versions, commands and events of a stackctl controller.",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's own pages load their scripts from a CDN: served below
        redoc_url=None,
        responses=errors(400) if refuses_hosts else None,
    )


def _add_probes(app: FastAPI, holder: DatabaseHolder, readiness: Readiness | None) -> None:
    """``/healthz`` (the process answers) and ``/readyz`` (every ``readiness`` check passes)."""

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive and serving (on the event loop itself: no thread to wait for)."""
        return {"status": "ok"}

    @app.get("/readyz", responses={503: {"description": "Not ready: `reason` says why."}})
    def readyz(request: Request) -> JSONResponse:
        """Ready when every check passes: 200, else 503 with the reason (with a token set,
        only its bearer gets the reasons' texts; others the names of the failing checks)."""
        checks = _checks(holder, readiness)
        body: dict[str, bool | str] = {name: value is True for name, value in checks.items()}
        failing = [
            f"{name}: {value if isinstance(value, str) else 'not ready'}"
            for name, value in checks.items()
            if value is not True
        ]
        if failing and told_everything(request):
            body["reason"] = "; ".join(failing)
        elif failing:
            names = [name for name, value in checks.items() if value is not True]
            body["reason"] = "not ready: " + ", ".join(names)
        return JSONResponse(body, status_code=503 if failing else 200)


def _add_metrics(
    app: FastAPI,
    holder: DatabaseHolder,
    engine_calls: Callable[[], Mapping[str, int]] | None,
    git_stats: Callable[[], object] | None,
) -> None:
    """``/metrics``: Prometheus text, its naming labels blank unless the token is given."""
    registry = build_registry(holder.get, engine_calls, git_stats)
    counts_only = build_registry(holder.get, engine_calls, git_stats, redact=True)

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics(request: Request) -> Response:
        """Prometheus text; with a token set, labels naming things are blank without it."""
        chosen = registry if told_everything(request) else counts_only
        return Response(generate_latest(chosen), media_type=CONTENT_TYPE_LATEST)


def _add_routers(app: FastAPI) -> None:
    """The ``/api/v1`` reads, writes, repositories and webhooks, and the web console at ``/``."""
    app.include_router(reads.router)
    app.include_router(writes.router)
    app.include_router(writes.commands)
    app.include_router(repositories.router)
    app.include_router(audit.router)
    app.include_router(manifests.router)
    app.include_router(engine_reads.router)
    app.include_router(hooks.router, responses=HOOK_RESPONSES)
    mount_console(app)


DOCS_ASSETS = "/docs/assets"


def _add_docs(app: FastAPI) -> None:
    """Swagger UI at ``/docs`` with its script, style and icon from the installed
    ``fastapi-offline`` package, so that the page works without internet access."""
    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(assets)), name="docs-assets")

    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} API",
        swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
    ).body
    # The page starts Swagger UI from an inline script: that one script is allowed, by its hash.
    inline = tuple(_sha256_source(script) for script in _INLINE_SCRIPT.findall(page.decode()))
    policy = page_policy(inline_scripts=inline)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": policy})


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _sha256_source(script: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"


def _checks(holder: DatabaseHolder, readiness: Readiness | None) -> dict[str, bool | str]:
    if readiness is None:
        return {"database": _database_takes_writes(holder)}
    try:
        return {
            name: value if isinstance(value, str) else bool(value)
            for name, value in readiness().items()
        }
    except Exception as e:  # a failing check is "not ready", never a 500
        log.warning("readiness check failed: %s", e)
        return {"readiness": f"the check failed: {e}"}


def _database_takes_writes(holder: DatabaseHolder) -> bool | str:
    """The default check: a small committed write (a full disk fails it, a read would not)."""
    try:
        holder.get().probe_write()
        return True
    except Exception as e:
        log.warning("readiness: the database does not take writes: %s", e)
        return str(e)


def _status_of(error: StackctlError) -> int:
    match error:
        case NotFoundError():
            return 404
        case InvalidCursorError():
            return 422
        case ConflictError() | PermanentError():
            return 409
        case TransientError():
            return 503
        case _:
            return 500


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StackctlError)
    async def project_error(_: Request, error: StackctlError) -> JSONResponse:
        return JSONResponse({"message": str(error)}, status_code=_status_of(error))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        message = error.detail if isinstance(error.detail, str) else str(error.detail)
        return JSONResponse(
            {"message": message}, status_code=error.status_code, headers=error.headers
        )

    @app.exception_handler(Exception)
    async def internal_error(_: Request, error: Exception) -> JSONResponse:
        log.exception("internal error in the HTTP API")
        return JSONResponse(
            {"message": f"internal error: {type(error).__name__} (see the controller's log)"},
            status_code=500,
        )

    @app.exception_handler(RequestValidationError)
    async def bad_parameters(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = [_problem(e) for e in error.errors()]
        return JSONResponse(
            {"message": "invalid parameters: " + "; ".join(errors), "errors": errors},
            status_code=422,
        )


def _problem(error: Mapping[str, Any]) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()))
    return f"{where}: {error.get('msg', 'invalid')}"
