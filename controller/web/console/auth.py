"""Who may read and act in the console: the API's token, entered once, then a session.

The console has no users of its own: whoever holds the controller's API token
(``STACKCTL_API_TOKEN``) may act, as with the API. The token is typed once into the page and
posted to ``/ui/session``; the answer is a cookie holding a random session id, never the token
nor anything computed from it: ``HttpOnly`` (no script reads it), ``SameSite=Strict`` (no
other site's page sends it), ``Secure`` when the console is reached over https (the request's
scheme, or an https ``--public-url`` in front of it), and no expiry of its own (the browser
drops it when it closes). The database keeps the session (``db.console_sessions``: the id's
SHA-256, a digest of the token, the expiry ``session_hours`` after entry), so it ends for good
when it expires, when "Forget token" deletes it (the cookie then works nowhere, even copied),
or when the token changes.

A request whose cookie names an ended session is signed out and told so
(``Access.session_ended``): ``EndedSessions`` has an htmx request's 401 reload the page
(``HX-Refresh``), and the page shows the token form saying why and drops the cookie.

Reads follow the API's rule: open without a token or with ``--api-open-reads``; otherwise the
pages ask for the token first. Actions need the session (or a bearer header, as the API) and,
with the cookie, the ``HX-Request`` header htmx sends: a form posted from another site cannot
set it, so a forged click is refused even where ``SameSite`` is not honoured.

With sign-in through OpenID Connect configured (``--oidc-issuer``, ``sign_in.py``), a person
signs in at the provider instead, and the same kind of session (the same cookie) records who
they are and their groups, with a digest of the provider's issuer and the client id in place of
the token's (``OidcConfig.session_digest``: another provider ends every session). Reads then
need a session (or the token), as when a token is set. What a person may do is the access
policy's (``controller.web.api.identity``); the token form keeps working beside the button.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request, Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from controller.config.oidc import OidcConfig
from controller.db import Database

COOKIE = "stackctl_console"
_CONTEXT = b"stackctl console session v2"
TOKEN_ENV = "STACKCTL_API_TOKEN"
_ACCESS = "console_access"  # where a request's Access is kept (scope["state"]) once computed


@dataclass(frozen=True)
class Access:
    """What this request may do, and why not (the reason is shown beside disabled buttons)."""

    token_configured: bool
    reads_open: bool
    signed_in: bool
    session_ended: bool = False  # its cookie names a session that expired or was closed
    sign_in: bool = False  # people sign in through OpenID Connect here
    who: str | None = None  # the person signed in (None: the token, or nobody)
    groups: tuple[str, ...] = ()

    @property
    def can_read(self) -> bool:
        return self.reads_open or self.signed_in

    @property
    def can_act(self) -> bool:
        return self.token_configured and self.signed_in and self.who is None

    @property
    def why_not(self) -> str:
        """Why the action buttons do nothing, or "" when they work."""
        if self.who is not None:
            return f"Signed in as {self.who}: what you may do is set by the access policy."
        if not self.token_configured:
            return (
                f"Actions are off: this controller has no API token (start it with {TOKEN_ENV}"
                " set to enable them)."
            )
        if not self.signed_in:
            return "Enter the API token to act (it is kept for this browser session only)."
        return ""


def token_matches(request: Request, given: str) -> bool:
    expected: str | None = request.app.state.token
    return bool(expected) and hmac.compare_digest(given.strip().encode(), expected.encode())


def open_session(request: Request, response: Response) -> None:
    """Record a new session for the configured token and give ``response`` its cookie."""
    session_id = secrets.token_urlsafe(32)
    _database(request).console_sessions.open(
        session_hash=_hash(session_id),
        token_digest=_token_digest(request.app.state.token),
        lifetime=timedelta(hours=request.app.state.session_hours),
    )
    give_cookie(request, response, session_id)


def new_session_id() -> tuple[str, str]:
    """A new session's id (for the cookie) and what the database keeps of it (its hash)."""
    session_id = secrets.token_urlsafe(32)
    return session_id, _hash(session_id)


def give_cookie(request: Request, response: Response, session_id: str) -> None:
    """The session cookie holding ``session_id``, as every session has it."""
    response.set_cookie(
        COOKIE,
        session_id,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https" or request.app.state.secure_cookies,
        path="/",
    )  # no max_age: a session cookie, gone when the browser closes; the server ends it before


def close_session(request: Request, response: Response) -> None:
    """End this request's session on the server and drop its cookie."""
    given = request.cookies.get(COOKIE, "")
    if given:
        _database(request).console_sessions.close(session_hash(request))
    response.delete_cookie(COOKIE, path="/")


def session_hash(request: Request) -> str:
    """What the database keeps of this request's session id ("" without a cookie)."""
    given = request.cookies.get(COOKIE, "")
    return _hash(given) if given else ""


def access(request: Request) -> Access:
    """This request's access (looked up once per request)."""
    known: Access | None = getattr(request.state, _ACCESS, None)
    if known is None:
        known = _access(request)
        setattr(request.state, _ACCESS, known)
    return known


def _access(request: Request) -> Access:
    expected: str | None = request.app.state.token
    oidc: OidcConfig | None = getattr(request.app.state, "oidc", None)
    if not expected and oidc is None:
        return Access(token_configured=False, reads_open=True, signed_in=False)
    given = request.cookies.get(COOKIE, "")
    session = _database(request).console_sessions.find(_hash(given)) if given else None
    person = (
        session is not None and oidc is not None and session.token_digest == oidc.session_digest
    )
    live = person or (
        session is not None and bool(expected) and session.token_digest == _token_digest(expected)
    )
    return Access(
        token_configured=bool(expected),
        reads_open=bool(request.app.state.open_reads),
        signed_in=live or (bool(expected) and _has_bearer(request, expected)),
        session_ended=bool(given) and not live,
        sign_in=oidc is not None,
        who=session.who if person and session else None,
        groups=session.groups if person and session else (),
    )


def forged(request: Request) -> bool:
    """An action carried by the cookie alone, without htmx's header: a cross-site form."""
    expected: str | None = request.app.state.token
    if expected and _has_bearer(request, expected):
        return False
    return request.headers.get("hx-request") != "true"


class EndedSessions:
    """ASGI middleware for a request whose cookie names an ended session: an htmx request's
    401 (a poll, a button) reloads the page, and a page (which says the session ended, then
    shows the token form) drops the cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})  # shared with the routes' request.state

        async def answer(message: Message) -> None:
            known = state.get(_ACCESS)
            if message["type"] == "http.response.start" and known and known.session_ended:
                headers = MutableHeaders(scope=message)
                if Headers(scope=scope).get("hx-request") != "true":  # a page: it says why
                    headers.append("set-cookie", f"{COOKIE}=; Max-Age=0; Path=/; HttpOnly")
                elif message["status"] == 401:  # kept for the reloaded page to say why
                    headers["HX-Refresh"] = "true"
            await send(message)

        await self.app(scope, receive, answer)


def _database(request: Request) -> Database:
    db: Database = request.app.state.database.get()
    return db


def _hash(session_id: str) -> str:
    """What the database keeps of a session id: a copy of the database gives no live cookie."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def _token_digest(token: str) -> str:
    """Which token a session was opened with, without keeping it: a new token ends them all."""
    return hmac.new(token.encode(), _CONTEXT, hashlib.sha256).hexdigest()


def _has_bearer(request: Request, expected: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return (
        scheme.lower() == "bearer"
        and bool(given.strip())
        and hmac.compare_digest(given.strip().encode(), expected.encode())
    )
