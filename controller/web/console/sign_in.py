"""Signing in to the console through OpenID Connect: ``GET /ui/login``, ``GET
/ui/auth/callback`` and ``POST /ui/logout``.

- ``/ui/login[?next=/path]`` sends the browser to the provider's login page (``oidc.py``: code
  flow, PKCE, state, nonce); ``next`` (a path of this console) is where it comes back to.
- ``/ui/auth/callback`` is the redirect URI registered at the provider
  (``PUBLIC_URL/ui/auth/callback``; without ``--public-url``, the address the browser used).
  A sign-in the provider and the checks accept opens a console session as the token does
  (``db.console_sessions``, the same cookie, ``--console-session-hours``) that records who
  signed in and their groups, closes the session the browser had, and is recorded in the audit
  log (``sign-in``, surface ``console``). Anything else is a page saying why (400 refused or
  forged, 502 the provider), never a traceback; a pending sign-in lasts 10 minutes.
- The answer of a sign-in is a small page that moves on to ``next`` by itself: the console's
  cookie is ``SameSite=Strict``, which a browser does not send on a redirect that started at
  another site (the provider's), so the next page is asked for from this one.
- ``/ui/logout`` (htmx's POST, as "Forget token") ends the session on the server (its cookie
  works nowhere afterwards, even copied), records ``sign-out``, then sends the browser to the
  provider's ``end_session_endpoint`` (which comes back to the console: register
  ``PUBLIC_URL/`` as a post-logout redirect URI) when it has one, else to the console.

What a signed-in person may do is not decided here (``controller.web.api.identity``: the
access policy turns who and groups into grants).
"""

from __future__ import annotations

import logging
import re
import secrets

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware

from controller.config.oidc import OidcConfig
from controller.db import Database
from controller.models.access import PrincipalKind
from controller.models.audit import Actor, AuditResult, Surface
from controller.web.api.identity import session_hash
from controller.web.console.auth import COOKIE, Access, access, close_session, open_session
from controller.web.console.oidc import (
    SIGN_IN_COOKIE,
    SIGN_IN_SECONDS,
    OidcClient,
    Person,
    SignInFailed,
)
from controller.web.console.templating import render, templates

log = logging.getLogger("stackctl.api")

router = APIRouter(include_in_schema=False)

CALLBACK = "/ui/auth/callback"
_NEXT = "stackctl_next"  # the page to come back to, beside Authlib's pending sign-in


def mount_sign_in(app: FastAPI) -> None:
    """The sign-in routes on ``app``, and, when ``app.state.oidc`` is set, its client and the
    signed cookie that holds a pending sign-in (path ``/ui``, ``SameSite=Lax``, 10 minutes,
    signed with a key made at start: a restart forgets the sign-ins under way)."""
    config: OidcConfig | None = getattr(app.state, "oidc", None)
    app.state.oidc = config
    app.state.oidc_client = OidcClient(config) if config is not None else None
    if config is not None:
        app.add_middleware(
            SessionMiddleware,
            secret_key=secrets.token_urlsafe(32),
            session_cookie=SIGN_IN_COOKIE,
            max_age=SIGN_IN_SECONDS,
            path="/ui",
            same_site="lax",
            https_only=bool(app.state.secure_cookies),
        )
    app.include_router(router)


@router.get("/ui/login", response_model=None)
async def login(request: Request, next: str = "/") -> Response:
    """To the provider's login page; back at ``next`` once signed in."""
    client = _client(request)
    if client is None:
        return _failed(request, "Sign-in is not configured on this controller.", 404)
    request.session[_NEXT] = _local(next)
    try:
        return await client.redirect(request, base_url(request) + CALLBACK)
    except SignInFailed as e:
        log.warning("sign-in: %s", e.message)
        return _failed(request, e.message, e.status)


@router.get(CALLBACK, response_model=None)
async def callback(request: Request) -> Response:
    """The provider's redirect back: a session for the person it signed in, or why not."""
    client = _client(request)
    if client is None:
        return _failed(request, "Sign-in is not configured on this controller.", 404)
    try:
        person = await client.person(request)
    except SignInFailed as e:
        log.warning("sign-in refused: %s", e.message)
        return _failed(request, e.message, e.status)
    target = _local(str(request.session.pop(_NEXT, "/")))
    response = templates.TemplateResponse(
        request, "signed_in.html", {"who": person.who, "target": target}
    )
    await run_in_threadpool(_record_sign_in, request, response, person)
    return response


@router.post("/ui/logout")
async def logout(request: Request) -> Response:
    """End this browser's session here, then at the provider when it can (htmx follows
    ``HX-Redirect``)."""
    if request.headers.get("hx-request") != "true":  # another site's form cannot sign one out
        return render(request, "_refused.html", 403, message="Refused: not from the console.")
    response = Response(status_code=204)
    signed = await run_in_threadpool(_end_session, request, response)
    target = base_url(request) + "/"
    client = _client(request)
    if signed.who is not None and client is not None:
        target = await client.end_session_url(target) or target
    response.headers["HX-Redirect"] = target
    return response


def base_url(request: Request) -> str:
    """Where people reach this console: ``--public-url``, else the address they used."""
    public: str | None = getattr(request.app.state, "public_url", None)
    return (public or str(request.base_url)).rstrip("/")


def _client(request: Request) -> OidcClient | None:
    client: OidcClient | None = getattr(request.app.state, "oidc_client", None)
    return client


_PAGE = re.compile(r"/(?!/)[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]*")


def _local(path: str) -> str:
    """``path`` when it is a page of this console (``/...``: not ``//host``, no backslash,
    space or control character a browser would drop or turn into ``/``), else ``/``."""
    return path if _PAGE.fullmatch(path) else "/"


def _failed(request: Request, message: str, status: int) -> HTMLResponse:
    return render(request, "sign_in_failed.html", status, title="Sign-in failed", message=message)


def _actor(request: Request, who: str) -> Actor:
    address = request.client.host if request.client else None
    return Actor(
        who=who, who_kind=PrincipalKind.USER.value, surface=Surface.CONSOLE, address=address
    )


def _record_sign_in(request: Request, response: Response, person: Person) -> None:
    """The person's session (its cookie on ``response``) and the audit entry saying they
    signed in, in one transaction; the session this browser had is closed (a sign-in never
    keeps an old id)."""
    db: Database = request.app.state.database.get()
    config: OidcConfig = request.app.state.oidc
    groups = ", ".join(person.groups) or "none"
    with db.transaction():
        if previous := request.cookies.get(COOKIE, ""):
            db.console_sessions.close(session_hash(previous))
        open_session(
            request, response, digest=config.session_digest, who=person.who, groups=person.groups
        )
        entry = _actor(request, person.who).entry(
            "sign-in", AuditResult.OK, detail=f"groups: {groups}; sub: {person.subject}"
        )
        db.audit.record(entry)
    log.info("console: %s signed in (groups: %s)", person.who, groups)


def _end_session(request: Request, response: Response) -> Access:
    """Close this request's session, drop its cookie (and record a person's ``sign-out``);
    who it was."""
    signed = access(request)
    db: Database = request.app.state.database.get()
    with db.transaction():
        close_session(request, response)
        if signed.who is not None:
            db.audit.record(_actor(request, signed.who).entry("sign-out", AuditResult.OK))
    return signed
