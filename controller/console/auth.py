"""Who may read and act in the console: the API's token, entered once per browser session.

The console has no users of its own: whoever holds the controller's API token
(``STACKCTL_API_TOKEN``) may act, as with the API. The token is typed once into the page and
posted to ``/ui/session``; the answer is a session cookie (no expiry: it ends with the browser
session) holding ``HMAC(token, "stackctl console session")``, never the token itself, and
``HttpOnly`` (no script reads it) and ``SameSite=Strict`` (no other site's page sends it).
Changing the token ends every console session.

Reads follow the API's rule: open without a token or with ``--api-open-reads``; otherwise the
pages ask for the token first. Actions need the session (or a bearer header, as the API) and,
with the cookie, the ``HX-Request`` header htmx sends: a form posted from another site cannot
set it, so a forged click is refused even where ``SameSite`` is not honoured.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from fastapi import Request

COOKIE = "stackctl_console"
_CONTEXT = b"stackctl console session v1"
TOKEN_ENV = "STACKCTL_API_TOKEN"


@dataclass(frozen=True)
class Access:
    """What this request may do, and why not (the reason is shown beside disabled buttons)."""

    token_configured: bool
    reads_open: bool
    signed_in: bool

    @property
    def can_read(self) -> bool:
        return self.reads_open or self.signed_in

    @property
    def can_act(self) -> bool:
        return self.token_configured and self.signed_in

    @property
    def why_not(self) -> str:
        """Why the action buttons do nothing, or "" when they work."""
        if not self.token_configured:
            return (
                f"Actions are off: this controller has no API token (start it with {TOKEN_ENV}"
                " set to enable them)."
            )
        if not self.signed_in:
            return "Enter the API token to act (it is kept for this browser session only)."
        return ""


def session_value(token: str) -> str:
    """The cookie's value for ``token``: proves the token was entered without being it."""
    return hmac.new(token.encode(), _CONTEXT, hashlib.sha256).hexdigest()


def token_matches(request: Request, given: str) -> bool:
    expected: str | None = request.app.state.token
    return bool(expected) and hmac.compare_digest(given.strip().encode(), expected.encode())


def access(request: Request) -> Access:
    expected: str | None = request.app.state.token
    if not expected:
        return Access(token_configured=False, reads_open=True, signed_in=False)
    return Access(
        token_configured=True,
        reads_open=bool(request.app.state.open_reads),
        signed_in=_has_session(request, expected) or _has_bearer(request, expected),
    )


def forged(request: Request) -> bool:
    """An action carried by the cookie alone, without htmx's header: a cross-site form."""
    expected: str | None = request.app.state.token
    if expected and _has_bearer(request, expected):
        return False
    return request.headers.get("hx-request") != "true"


def _has_session(request: Request, expected: str) -> bool:
    given = request.cookies.get(COOKIE, "")
    return bool(given) and hmac.compare_digest(given.encode(), session_value(expected).encode())


def _has_bearer(request: Request, expected: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return (
        scheme.lower() == "bearer"
        and bool(given.strip())
        and hmac.compare_digest(given.strip().encode(), expected.encode())
    )
