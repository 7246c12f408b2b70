"""``OidcConfig``: the web console's sign-in through OpenID Connect, as ``stackctl run`` was
told it (the ``oidc_*`` settings), checked once at start.

Sign-in is configured by three settings that go together (``oidc_issuer``, ``oidc_client_id``,
``oidc_client_secret_file``) and three with defaults (``oidc_scopes``, ``oidc_groups_claim``,
``oidc_username_claim``). None of the three: no sign-in. Some but not all, a secret file that
cannot be read or is empty, an issuer that is not an http(s) URL, scopes without ``openid``:
``OidcSettingError`` naming the setting, so that ``stackctl run`` stops at start with a usage
error instead of failing at someone's first sign-in. The secret is read here, once, and kept
in memory (as the API token is); it never appears in a ``repr``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_GROUPS_CLAIM",
    "DEFAULT_SCOPES",
    "DEFAULT_USERNAME_CLAIM",
    "OidcConfig",
    "OidcSettingError",
    "oidc_config",
]

DEFAULT_SCOPES = "openid profile email"
DEFAULT_GROUPS_CLAIM = "groups"
DEFAULT_USERNAME_CLAIM = "preferred_username"
_SESSION_CONTEXT = "stackctl console sign-in v1"
#: the settings a sign-in needs, all three or none
REQUIRED = ("oidc_issuer", "oidc_client_id", "oidc_client_secret_file")


class OidcSettingError(ValueError):
    """A sign-in setting that cannot work; ``setting`` names it (``oidc_issuer``...)."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(message)
        self.setting = setting


@dataclass(frozen=True)
class OidcConfig:
    """Who the console's people sign in with: the provider (``issuer``, whose discovery
    document is at ``issuer/.well-known/openid-configuration``), this controller's client at
    it, the scopes asked for, and the claims naming a person and their groups."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: str = DEFAULT_SCOPES
    groups_claim: str = DEFAULT_GROUPS_CLAIM
    username_claim: str = DEFAULT_USERNAME_CLAIM

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    @property
    def session_digest(self) -> str:
        """What a console session opened by signing in here keeps as its ``token_digest``: a
        digest of the issuer and the client id, so that another provider or client ends every
        session (as a new API token ends the token's)."""
        material = "\0".join((_SESSION_CONTEXT, self.issuer, self.client_id))
        return hashlib.sha256(material.encode()).hexdigest()


def oidc_config(settings: Any) -> OidcConfig | None:
    """The sign-in ``settings`` (``config.Settings``) configure, or ``None`` when none of the
    three required settings is given. ``OidcSettingError`` names what is wrong."""
    given = {name: getattr(settings, name) for name in REQUIRED}
    if not any(given.values()):
        return None
    missing = [name for name, value in given.items() if not value]
    if missing:
        have = ", ".join(name for name in REQUIRED if name not in missing)
        raise OidcSettingError(
            missing[0],
            f"sign-in with OpenID Connect needs {', '.join(REQUIRED)} together: {have} given,"
            f" {', '.join(missing)} missing",
        )
    issuer = _issuer(str(given["oidc_issuer"]))
    scopes = " ".join(str(settings.oidc_scopes or DEFAULT_SCOPES).split())
    if "openid" not in scopes.split():
        raise OidcSettingError("oidc_scopes", f"{scopes!r} must include the scope openid")
    return OidcConfig(
        issuer=issuer,
        client_id=str(given["oidc_client_id"]).strip(),
        client_secret=_secret(Path(given["oidc_client_secret_file"])),
        scopes=scopes,
        groups_claim=_claim("oidc_groups_claim", settings.oidc_groups_claim),
        username_claim=_claim("oidc_username_claim", settings.oidc_username_claim),
    )


def _issuer(text: str) -> str:
    """The issuer URL as the provider names itself (a trailing ``/`` kept: ``iss`` must equal
    it exactly), checked to be an http(s) URL with a host and no query or fragment."""
    issuer = text.strip()
    parts = urlsplit(issuer)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise OidcSettingError("oidc_issuer", f"{issuer!r} is not an https:// (or http://) URL")
    if parts.query or parts.fragment:
        raise OidcSettingError("oidc_issuer", f"{issuer!r}: an issuer has no ?query or #fragment")
    return issuer


def _secret(path: Path) -> str:
    """The client secret the file holds (surrounding whitespace dropped)."""
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except OSError as e:
        raise OidcSettingError(
            "oidc_client_secret_file", f"cannot read the client secret file {path}: {e.strerror}"
        ) from None
    if not secret:
        raise OidcSettingError("oidc_client_secret_file", f"the client secret file {path} is empty")
    return secret


def _claim(setting: str, value: object) -> str:
    name = str(value or "").strip()
    if not name:
        raise OidcSettingError(setting, "the name of a claim cannot be empty")
    return name
