"""Who sends a request, and whether their grants reach what it touches.

A request is someone (``principal``), found once per request, in this order:

1. ``Authorization: Bearer <token>``: the bootstrap token (``STACKCTL_API_TOKEN``) is the
   admin of every stack; a personal or service token (``stk_...``, ``commands/tokens.py``)
   holds its role on its stacks and acts as its owner (a service token as ``token NAME``). A
   bearer that is neither is 401, also when it was revoked or has expired: at once.
2. The console's cookie, on the console's routes only (the API takes bearer tokens: no page of
   another site can make a browser act through it): a session opened with the API token is
   the admin token's; a person signed in through OpenID Connect holds the grants the access
   policy gives their user name and groups (``PolicySource``: the file, read again when it
   changes); a person the policy names nowhere holds nothing (deny by default).
3. Nobody: while authentication is off (no API token, no sign-in, no live token) everyone
   reads and nobody writes, as before teams; with it on, nobody reads unless
   ``--api-open-reads``.

``require(request, action, stack)`` answers 401 to nobody (authentication on), 403 to
someone whose grants do not reach ``stack`` for ``action`` (a write's refusal is recorded in
the audit log), 403 "writes are off" while authentication is off. ``visible`` filters a
listing to what the caller may read.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path

from fastapi import HTTPException, Request

from controller.commands.audited import denied
from controller.db import Database
from controller.models.access import (
    ADMIN_EVERYWHERE,
    READ_EVERYWHERE,
    AccessPolicy,
    Action,
    Grant,
    Principal,
    PrincipalKind,
    Role,
    StackSelector,
)
from controller.models.audit import Actor, Surface
from controller.models.errors import ManifestError

log = logging.getLogger("stackctl.api")

COOKIE = "stackctl_console"  # the console's session cookie (controller.web.console.auth)
TOKEN_ENV = "STACKCTL_API_TOKEN"
_STATE = "stackctl_principal"  # where a request's principal is kept once found
_SESSION_CONTEXT = b"stackctl console session v2"
ADMIN_TOKEN_NAME = "admin token"
NOBODY = "anonymous"
API_PREFIX = "/api/"
CLI_AGENT = "stackctl/"  # the remote command line's User-Agent (controller.cli.remote.client)


class PolicySource:
    """The access policy file, read again when its modification time or size changes.

    A file that becomes invalid keeps the last good policy (the error is logged once per
    change): a typo must not lock everyone out, nor open anything. ``None``: no file, nobody
    is bound (people signed in see the no-access page; tokens and the API token still work).
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._policy = AccessPolicy()
        if path is not None:
            from controller.sources.loader.access_policy import load_access_policy

            self._policy = load_access_policy(path)  # a bad file stops the start
            self._stamp = _stamp(path)

    def current(self) -> AccessPolicy:
        if self.path is None:
            return self._policy
        stamp = _stamp(self.path)
        with self._lock:
            if stamp != self._stamp:
                self._stamp = stamp
                self._reload(self.path)
            return self._policy

    def _reload(self, path: Path) -> None:
        from controller.sources.loader.access_policy import load_access_policy

        try:
            self._policy = load_access_policy(path)
            log.info("access policy %s read again: %d bindings", path, len(self._policy.bindings))
        except ManifestError as e:
            log.error("access policy kept as it was: %s", e)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def database(request: Request) -> Database:
    db: Database = request.app.state.database.get()
    return db


def principal(request: Request) -> Principal:
    """Who sends ``request`` (found once per request)."""
    known: Principal | None = getattr(request.state, _STATE, None)
    if known is None:
        known = _find(request)
        setattr(request.state, _STATE, known)
    return known


def authentication_on(request: Request) -> bool:
    """Whether the controller asks who calls: an API token, sign-in, or a live token."""
    state = request.app.state
    if state.token or getattr(state, "oidc_digest", None):
        return True
    return database(request).api_tokens.any_live()


def _find(request: Request) -> Principal:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and given.strip():
        found = _bearer(request, given.strip())
        if found is not None:
            return found
    cookie = request.cookies.get(COOKIE, "")
    if cookie and not request.url.path.startswith(API_PREFIX):
        found = _session(request, cookie)
        if found is not None:
            return found
    return _nobody(request)


def _bearer(request: Request, given: str) -> Principal | None:
    expected: str | None = request.app.state.token
    if expected and hmac.compare_digest(given.encode(), expected.encode()):
        return Principal(ADMIN_TOKEN_NAME, PrincipalKind.ADMIN_TOKEN, ADMIN_EVERYWHERE)
    if given.startswith("stk_"):
        from controller.commands.tokens import verify

        token = verify(database(request), given)
        if token is None:
            raise _unauthorized("invalid bearer token: unknown, revoked or expired", bad=True)
        stacks = StackSelector.parse(token.stacks) if token.stacks else None
        return Principal(
            token.owner or f"token {token.name}",
            PrincipalKind.TOKEN,
            (Grant(Role(token.role), stacks),),
            via=token.name,
        )
    if expected:
        raise _unauthorized("invalid bearer token", bad=True)
    return None  # no token configured: a stray header is nobody, as before teams


def session_hash(session_id: str) -> str:
    """What the database keeps of a console session id: a copy of it gives no live cookie."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def token_digest(token: str) -> str:
    """Which API token a console session was opened with, without keeping it: a new token
    ends them all."""
    return hmac.new(token.encode(), _SESSION_CONTEXT, hashlib.sha256).hexdigest()


def _session(request: Request, cookie: str) -> Principal | None:
    found = database(request).console_sessions.find(session_hash(cookie))
    if found is None:
        return None
    state = request.app.state
    if found.who is None:
        if state.token and hmac.compare_digest(found.token_digest, token_digest(state.token)):
            return Principal(ADMIN_TOKEN_NAME, PrincipalKind.ADMIN_TOKEN, ADMIN_EVERYWHERE)
        return None
    oidc = getattr(state, "oidc_digest", None)
    if not oidc or not hmac.compare_digest(found.token_digest, oidc):
        return None  # signed in with another provider or client: ended
    policy: PolicySource = state.policy
    grants = policy.current().grants_for(found.who, found.groups)
    return Principal(found.who, PrincipalKind.USER, grants, groups=found.groups)


def _nobody(request: Request) -> Principal:
    reads = not authentication_on(request) or bool(request.app.state.open_reads)
    return Principal(NOBODY, PrincipalKind.ANONYMOUS, READ_EVERYWHERE if reads else ())


def labels_of(request: Request, stack: str | None) -> dict[str, str]:
    if stack is None:
        return {}
    return database(request).stacks.labels(stack).get(stack, {})


def require(request: Request, action: Action, stack: str | None = None) -> Principal:
    """The caller, when their grants reach ``stack`` for ``action``; else 401 or 403."""
    who = principal(request)
    if who.may(action, stack, labels_of(request, stack)):
        return who
    raise refusal(request, who, action, stack)


def refusal(request: Request, who: Principal, action: Action, stack: str | None) -> HTTPException:
    """The answer to ``who`` not allowed ``action`` on ``stack`` (a write's denial audited)."""
    if who.kind is PrincipalKind.ANONYMOUS:
        if not authentication_on(request) and action is not Action.READ:
            return HTTPException(
                status_code=403,
                detail=f"write endpoints are disabled: set {TOKEN_ENV} for the controller to"
                " enable them, then send `Authorization: Bearer <token>`",
            )
        return _unauthorized("missing bearer token: send `Authorization: Bearer <token>`")
    target = f" stack {stack!r}" if stack else " anything outside a stack"
    held = ", ".join(map(str, who.grants)) or "no role: no access policy binding names them"
    reason = f"{who.shown} may not {action.value}{target} (holds {held})"
    if action is not Action.READ:
        denied(database(request), actor(request), action.value, reason, stack_id=stack)
    return HTTPException(status_code=403, detail=reason)


def _unauthorized(message: str, *, bad: bool = False) -> HTTPException:
    challenge = 'Bearer error="invalid_token"' if bad else "Bearer"
    return HTTPException(status_code=401, detail=message, headers={"WWW-Authenticate": challenge})


def visible(request: Request, names: Iterable[str]) -> list[str]:
    """The names of ``names`` the caller may read, in order."""
    who = principal(request)
    if who.may(Action.READ):  # a grant over every stack
        return list(names)
    labels = database(request).stacks.labels()
    return [n for n in names if who.may(Action.READ, n, labels.get(n, {}))]


def actor(request: Request, surface: Surface | None = None) -> Actor:
    """The caller as an audit entry and a version name them (``surface``: by default the
    console's on its routes; on the API's, the command line's when its client says so by its
    ``User-Agent``, ``stackctl/VERSION``, which tells where a change was asked from, not who:
    who is the token)."""
    who = principal(request)
    if surface is None:
        surface = _surface(request)
    address = request.client.host if request.client is not None else None
    return Actor(who.name, who.kind.value, surface, via=who.via, address=address)


def _surface(request: Request) -> Surface:
    if not request.url.path.startswith(API_PREFIX):
        return Surface.CONSOLE
    agent = request.headers.get("user-agent", "")
    return Surface.CLI if agent.startswith(CLI_AGENT) else Surface.API
