"""``OidcClient``: the console's OpenID Connect client (Authlib's Starlette integration), and
``person_of``: who a sign-in's claims say signed in.

The flow is the authorization code flow with PKCE (S256), a ``state`` and a ``nonce``, the
provider's endpoints read from its discovery document (once, then kept). Authlib keeps what a
pending sign-in needs (state, nonce, code verifier, redirect URI) in Starlette's signed session
cookie (``SIGN_IN_COOKIE``, ``SameSite=Lax`` so that the provider's redirect back carries it,
10 minutes, ``/ui`` only), checks the callback's ``state``, exchanges the code and validates the
ID token (signature against the provider's keys, ``iss``, ``aud``, expiry, ``nonce``,
``at_hash``). Added here: the discovery document must name the configured issuer (a provider
that names another is refused: OpenID Connect Discovery 1.0, 4.3), so must the callback's
``iss`` when the provider sends one (RFC 9207, mix-up), and the claims are read from the ID
token, then from the userinfo endpoint for what it lacks (the same ``sub``, or refused).

Every way a sign-in can fail is a ``SignInFailed`` with a message for the person and the HTTP
status of the page that says it: never a traceback.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import authlib.deprecate  # first: it sets its warnings to "always"
import httpx
from fastapi import Request
from joserfc.errors import JoseError
from starlette.responses import Response

from controller.config.oidc import OidcConfig

with warnings.catch_warnings():
    # Authlib asks for httpx2 and falls back to httpx, which is what the project declares.
    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.integrations.starlette_client import OAuth, OAuthError

log = logging.getLogger("stackctl.api")

SIGN_IN_COOKIE = "stackctl_sign_in"
SIGN_IN_SECONDS = 600  # to go through the provider's pages and come back
TIMEOUT_SECONDS = 10.0  # each call to the provider (discovery, keys, token, userinfo)


def _http_errors() -> tuple[type[Exception], ...]:
    """What a failed call to the provider raises: httpx's errors (httpx2's too, which Authlib
    uses instead when it is installed)."""
    try:
        import httpx2  # type: ignore[import-not-found]
    except ImportError:
        return (httpx.HTTPError,)
    return (httpx.HTTPError, httpx2.HTTPError)


HTTP_ERRORS = _http_errors()

_STATE_MISMATCH = (
    "This sign-in did not start here, or it took more than 10 minutes (or the controller"
    " restarted meanwhile): sign in again."
)


class SignInFailed(Exception):
    """A sign-in that cannot go on: ``message`` for the person, ``status`` for the page."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Person:
    """Who signed in: their user name (``who``), their groups, and the provider's ``sub``."""

    who: str
    groups: tuple[str, ...]
    subject: str


def person_of(claims: Mapping[str, Any], config: OidcConfig) -> Person:
    """The person the claims name: ``config.username_claim``, else ``email``, else ``sub``
    (the first that is a non-empty string); their groups from ``config.groups_claim`` (a list
    of names; one string is split on commas and spaces; absent: none)."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise SignInFailed("The provider's answer names nobody (it has no sub claim).", 502)
    who = next(
        value.strip()
        for value in (claims.get(config.username_claim), claims.get("email"), subject)
        if isinstance(value, str) and value.strip()
    )
    return Person(who=who, groups=_groups(claims.get(config.groups_claim)), subject=subject)


def _groups(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list | tuple):
        return ()
    names = (item.strip() for item in value if isinstance(item, str))
    return tuple(dict.fromkeys(name for name in names if name))  # in order, once each


class OidcClient:
    """This controller as a client of one OpenID provider (``config``)."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        oauth = OAuth()
        self._app: Any = oauth.register(
            name="provider",
            client_id=config.client_id,
            client_secret=config.client_secret,
            server_metadata_url=config.discovery_url,
            client_kwargs={
                "scope": config.scopes,
                "code_challenge_method": "S256",
                "timeout": TIMEOUT_SECONDS,
            },
        )

    async def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (read once), checked to name our issuer."""
        try:
            metadata: dict[str, Any] = await self._app.load_server_metadata()
        except (*HTTP_ERRORS, ValueError) as e:
            raise SignInFailed(
                f"The identity provider does not answer at {self.config.discovery_url}: {e}",
                502,
            ) from e
        if metadata.get("issuer") != self.config.issuer:
            named = metadata.get("issuer")
            self._app.server_metadata.clear()  # read again next time (it may be fixed)
            raise SignInFailed(
                f"The provider's discovery document names the issuer {named!r}, not"
                f" {self.config.issuer!r} (--oidc-issuer): check the setting.",
                502,
            )
        return metadata

    async def redirect(self, request: Request, redirect_uri: str) -> Response:
        """The redirect to the provider's login page; the pending sign-in in the session."""
        await self.metadata()
        try:
            response: Response = await self._app.authorize_redirect(request, redirect_uri)
        except (*HTTP_ERRORS, OAuthError, RuntimeError) as e:
            raise SignInFailed(f"Cannot start the sign-in: {e}", 502) from e
        return response

    async def person(self, request: Request) -> Person:
        """Who the provider's redirect back (``request``, the callback) says signed in."""
        metadata = await self.metadata()
        sent_issuer = request.query_params.get("iss")
        if sent_issuer is not None and sent_issuer != self.config.issuer:
            raise SignInFailed(f"This answer comes from another provider ({sent_issuer}).")
        try:
            token = await self._app.authorize_access_token(request)
            claims = dict(token.get("userinfo") or {})
            if not claims:
                raise SignInFailed("The provider's answer has no ID token.", 502)
            claims = await self._with_userinfo(claims, token, metadata)
        except OAuthError as e:
            raise SignInFailed(_refusal(e)) from e
        except (JoseError, ValueError) as e:
            raise SignInFailed(f"The provider's ID token is not valid: {e}", 502) from e
        except HTTP_ERRORS as e:
            raise SignInFailed(f"The identity provider does not answer: {e}", 502) from e
        return person_of(claims, self.config)

    async def _with_userinfo(
        self, claims: dict[str, Any], token: Mapping[str, Any], metadata: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The ID token's claims, with the userinfo endpoint's for the person's name or
        groups when the ID token lacks them (many providers keep them there)."""
        wanted = (self.config.username_claim, self.config.groups_claim)
        if all(name in claims for name in wanted) or not metadata.get("userinfo_endpoint"):
            return claims
        info = dict(await self._app.userinfo(token=token))
        if info.get("sub") != claims.get("sub"):
            raise SignInFailed("The provider's userinfo names another person than its ID token.")
        return {**info, **claims}

    async def end_session_url(self, post_logout_redirect_uri: str) -> str | None:
        """Where the provider signs a person out and sends them back, or ``None`` when it has
        no ``end_session_endpoint`` (or cannot be reached: the session has ended here)."""
        try:
            metadata = await self.metadata()
        except SignInFailed as e:
            log.warning("sign-out: %s", e.message)
            return None
        endpoint = metadata.get("end_session_endpoint")
        if not endpoint:
            return None
        query = httpx.QueryParams(
            client_id=self.config.client_id, post_logout_redirect_uri=post_logout_redirect_uri
        )
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def _refusal(error: OAuthError) -> str:
    """What to tell a person whose sign-in the provider or the checks refused."""
    if error.error == "mismatching_state":
        return _STATE_MISMATCH
    if error.error == "access_denied":
        return f"The identity provider did not sign you in ({error.description or 'denied'})."
    described = f": {error.description}" if error.description else ""
    return f"The sign-in was refused ({error.error}{described})."
