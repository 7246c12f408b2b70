"""Who signed in, from the provider's claims: ``--oidc-username-claim`` (default
``preferred_username``), else ``email``, else ``sub``; the groups from ``--oidc-groups-claim``
(a list; one string split on commas and spaces; absent: none). Then the same through the real
provider, for a person it gives no ``preferred_username``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers.oidc import OidcUser

from controller.config.oidc import OidcConfig
from controller.db import Database
from controller.web.api import create_app, start_server
from controller.web.console.oidc import SignInFailed, person_of

CONFIG = OidcConfig("https://id.example.com", "stackctl", "s")


@pytest.mark.parametrize(
    ("claims", "who"),
    [
        ({"sub": "1", "preferred_username": "alice", "email": "a@x.test"}, "alice"),
        ({"sub": "1", "preferred_username": " ", "email": "a@x.test"}, "a@x.test"),
        ({"sub": "1", "preferred_username": None, "email": "a@x.test"}, "a@x.test"),
        ({"sub": "1", "email": ""}, "1"),
        ({"sub": "f81d4fae", "preferred_username": ["not", "a", "name"]}, "f81d4fae"),
    ],
)
def test_the_username_claim_else_email_else_sub(claims: dict[str, Any], who: str) -> None:
    assert person_of(claims, CONFIG).who == who


def test_another_username_claim() -> None:
    config = OidcConfig("https://id.example.com", "c", "s", username_claim="upn")
    claims = {"sub": "1", "upn": "alice@corp.test", "preferred_username": "alice"}
    assert person_of(claims, config).who == "alice@corp.test"


@pytest.mark.parametrize(
    ("value", "groups"),
    [
        (["ops", "dev", "ops"], ("ops", "dev")),
        ("ops, dev admins", ("ops", "dev", "admins")),
        ([], ()),
        (None, ()),
        ({"ops": True}, ()),
        (["ops", 3, {"x": 1}, " dev "], ("ops", "dev")),
    ],
)
def test_groups_from_the_groups_claim(value: object, groups: tuple[str, ...]) -> None:
    claims = {"sub": "1", "groups": value} if value is not None else {"sub": "1"}
    assert person_of(claims, CONFIG).groups == groups


def test_another_groups_claim() -> None:
    config = OidcConfig("https://id.example.com", "c", "s", groups_claim="roles")
    assert person_of({"sub": "1", "roles": ["a"], "groups": ["b"]}, config).groups == ("a",)


def test_no_sub_is_nobody() -> None:
    with pytest.raises(SignInFailed, match="names nobody"):
        person_of({"preferred_username": "alice"}, CONFIG)


def test_through_the_provider_without_preferred_username(
    oidc_provider_factory: Callable[..., Any], db_path: Path, db: Database
) -> None:
    dave = OidcUser("dave", ("ops", "admins"), claims={"preferred_username": None})
    provider = oidc_provider_factory(users={"dave": dave})
    app = create_app(db_path=db_path, **provider.app_options())
    server = start_server(app, host="127.0.0.1", port=provider.console_port)
    try:
        with httpx.Client(base_url=server.url, timeout=15) as console:
            answer = provider.sign_in_over_http(console, "dave")
            assert answer.status_code == 200, answer.text
    finally:
        server.stop()
    [entry] = db.audit.list().items
    assert (entry.who, entry.detail) == ("dave@example.test", "groups: ops, admins; sub: dave")
