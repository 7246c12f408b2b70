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
the token's (``OidcConfig.session_digest``: another provider ends every session). What they may
do is the access policy's (``controller.web.api.identity``); the token form keeps working
beside the "Sign in" button.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from fastapi import HTTPException, Request, Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from controller.db import Database
from controller.models.access import Action, Principal, PrincipalKind
from controller.web.api import identity
from controller.web.api.identity import COOKIE, TOKEN_ENV, session_hash, token_digest

__all__ = ["COOKIE", "TOKEN_ENV", "Access", "access", "close_session", "forged", "open_session"]

_ACCESS = "console_access"  # where a request's Access is kept (scope["state"]) once computed


@dataclass(frozen=True)
class Access:
    """What this request may do, and why not (the reason is shown beside disabled buttons).

    ``principal``: who the request is (``controller.web.api.identity``); ``token_configured``:
    the controller has an API token (the token form is offered); ``sign_in``: people sign in
    through OpenID Connect; ``session_ended``: the cookie names a session that expired or was
    closed."""

    principal: Principal
    token_configured: bool
    sign_in: bool = False
    session_ended: bool = False

    @property
    def who(self) -> str | None:
        """The person signed in through OpenID Connect (None: a token, or nobody)."""
        return self.principal.name if self.principal.kind is PrincipalKind.USER else None

    @property
    def signed_in(self) -> bool:
        return self.principal.kind is not PrincipalKind.ANONYMOUS

    @property
    def can_read(self) -> bool:
        return self.principal.may_somewhere(Action.READ)

    @property
    def can_act(self) -> bool:
        """Whether some stack allows the caller an operator's action (the buttons work)."""
        return self.signed_in and self.principal.may_somewhere(Action.SYNC)

    @property
    def no_access(self) -> bool:
        """A person signed in whom no binding names: the page says so and shows nothing."""
        return self.principal.kind is PrincipalKind.USER and not self.principal.bound

    @property
    def why_not(self) -> str:
        """Why the action buttons do nothing, or "" when they work."""
        if self.can_act:
            return ""
        if self.signed_in:
            return f"{self.principal.shown} may read only: acting needs the operator role."
        if not self.token_configured and not self.sign_in:
            return (
                f"Actions are off: this controller has no API token (start it with {TOKEN_ENV}"
                " set to enable them)."
            )
        if self.sign_in and not self.token_configured:
            return "Sign in to act."
        return "Enter the API token to act (it is kept for this browser session only)."


def token_matches(request: Request, given: str) -> bool:
    expected: str | None = request.app.state.token
    return bool(expected) and hmac.compare_digest(given.strip().encode(), expected.encode())


def open_session(
    request: Request,
    response: Response,
    *,
    digest: str | None = None,
    who: str | None = None,
    groups: tuple[str, ...] = (),
) -> None:
    """Record a new session and give ``response`` its cookie: the API token's (by default), or
    a person's signed in (``who``, ``groups``, ``digest``: the provider's, see identity)."""
    session_id = secrets.token_urlsafe(32)
    _database(request).console_sessions.open(
        session_hash=session_hash(session_id),
        token_digest=digest or token_digest(request.app.state.token),
        lifetime=timedelta(hours=request.app.state.session_hours),
        who=who,
        groups=groups,
    )
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
        _database(request).console_sessions.close(session_hash(given))
    response.delete_cookie(COOKIE, path="/")


def access(request: Request) -> Access:
    """This request's access (looked up once per request)."""
    known: Access | None = getattr(request.state, _ACCESS, None)
    if known is None:
        known = _access(request)
        setattr(request.state, _ACCESS, known)
    return known


def _access(request: Request) -> Access:
    state = request.app.state
    try:
        who = identity.principal(request)
    except HTTPException:  # a wrong bearer header on a page: nobody
        who = Principal(identity.NOBODY, PrincipalKind.ANONYMOUS)
    cookie = request.cookies.get(COOKIE, "")
    return Access(
        principal=who,
        token_configured=bool(state.token),
        sign_in=bool(getattr(state, "oidc_digest", None)),
        session_ended=bool(cookie) and who.kind is PrincipalKind.ANONYMOUS,
    )


def forged(request: Request) -> bool:
    """An action carried by the cookie alone, without htmx's header: a cross-site form. A
    request with a bearer header that identifies someone is not (no other site's form can
    send one)."""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and given.strip() and access(request).signed_in:
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
