"""People sign in to the console through a real, certified OpenID provider (panva's
oidc-provider, ``oidc_provider``), in chromium, through its real login page: the console shows
who signed in; signing out ends the session on the server (the old cookie, replayed, is
refused) and at the provider (signing in again asks for the password again); an expired
session is refused; a forged callback, a cancelled sign-in and a wrong password are pages that
say so. The provider is at another site (``localhost``) than the console (``127.0.0.1``), as
a real one is: the console's ``SameSite=Strict`` cookie must still reach the first page."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers.teams import record_labelled, write_policy
from playwright.sync_api import Page, expect

from controller.db import Database
from controller.web.api import create_app, start_server

pytestmark = pytest.mark.browser

COOKIE = "stackctl_console"


@pytest.fixture
def console(oidc_provider: Any, db_path: Path, db: Database, tmp_path: Path) -> Iterator[str]:
    """The console on the port the provider's client is registered for, with the teams'
    access policy (group ops: operator on team=shop) and the stack shop to show."""
    record_labelled(db, tmp_path, "shop", {"team": "shop"}, image="stackctl-test/busybox:1")
    policy = write_policy(tmp_path)
    app = create_app(db_path=db_path, access_policy=policy, **oidc_provider.app_options())
    server = start_server(app, host="127.0.0.1", port=oidc_provider.console_port)
    try:
        yield server.url
    finally:
        server.stop()


def session_cookie(page: Page) -> str:
    (value,) = [c["value"] for c in page.context.cookies() if c["name"] == COOKIE]
    return value


def replayed(console: str, cookie: str, path: str = "/") -> httpx.Response:
    """``path`` asked for with ``cookie``, as whoever copied it would."""
    with httpx.Client(base_url=console, cookies={COOKIE: cookie}, timeout=10) as http:
        return http.get(path)


def signed_in_as(html: str) -> str | None:
    """Who the page's header says is signed in."""
    found = re.search(r'id="signed-in-as">Signed in as <strong>([^<]*)</strong>', html)
    return found.group(1) if found else None


def test_alice_signs_in_on_the_providers_page_and_the_console_shows_her(
    page: Page, oidc_provider: Any, console: str, db: Database
) -> None:
    oidc_provider.sign_in(page, "alice", at="/stacks/shop")
    expect(page.get_by_role("heading", name="shop")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in")).to_have_count(0)

    cookie = next(c for c in page.context.cookies() if c["name"] == COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert not [c for c in page.context.cookies() if c["name"] == "stackctl_sign_in"]
    session = db.console_sessions.find(_hash(cookie["value"]))
    assert session is not None
    assert (session.who, session.groups) == ("alice", ("ops",))
    assert session.token_digest == oidc_provider.config().session_digest
    (entry,) = db.audit.list(who="alice").items
    assert (entry.action, entry.surface.value, entry.result.value) == ("sign-in", "console", "ok")
    assert entry.who_kind == "user" and entry.address == "127.0.0.1"


def test_signing_out_ends_the_session_here_and_at_the_provider(
    page: Page, oidc_provider: Any, console: str, db: Database
) -> None:
    oidc_provider.sign_in(page, "alice")
    copied = session_cookie(page)  # whoever copied the cookie before she signed out
    assert signed_in_as(replayed(console, copied).text) == "alice"

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign out of the test provider?")).to_be_visible()
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page).to_have_url(console + "/")
    expect(page.get_by_role("link", name="Sign in").first).to_be_visible()

    answer = replayed(console, copied)
    assert answer.status_code == 401 and signed_in_as(answer.text) is None
    assert "session ended" in answer.text
    assert replayed(console, copied, "/stacks/shop").status_code == 401
    assert [e.action for e in db.audit.list(who="alice").items] == ["sign-out", "sign-in"]

    # The provider's session ended too: signing in again asks for the password again.
    page.get_by_role("link", name="Sign in").first.click()
    expect(page.get_by_label("Password")).to_be_visible()


def test_an_expired_session_is_refused(
    page: Page, oidc_provider: Any, console: str, db_path: Path
) -> None:
    oidc_provider.sign_in(page, "bob")
    expect(page.get_by_role("heading", name="No access")).to_be_visible()  # no binding names him
    cookie = session_cookie(page)
    with sqlite3.connect(db_path) as conn:  # its hours have passed
        conn.execute(
            "UPDATE console_sessions SET created_at = '2000-01-01T00:00:00.000000Z',"
            " expires_at = '2000-01-01T12:00:00.000000Z'"
        )
    page.reload()
    expect(page.get_by_text("Your session ended (it expired, or you signed out)")).to_be_visible()
    expect(page.locator("#signed-in-as")).to_have_count(0)
    assert replayed(console, cookie).status_code == 401


def test_a_forged_callback_is_a_page_that_says_so(
    page: Page, oidc_provider: Any, console: str
) -> None:
    answer = page.goto(console + "/ui/auth/callback?code=stolen&state=forged")
    assert answer is not None and answer.status == 400
    expect(page.get_by_role("heading", name="Sign-in failed")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("did not start here")
    assert "Traceback" not in page.content()
    assert not [c for c in page.context.cookies() if c["name"] == COOKIE]


def test_a_cancelled_sign_in_and_a_wrong_password_say_so(
    page: Page, oidc_provider: Any, console: str
) -> None:
    page.goto(console + "/")
    page.get_by_role("link", name="Sign in").first.click()
    oidc_provider.log_in_at_provider(page, "alice", password="not-hers")
    expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")
    page.get_by_role("button", name="Cancel").click()
    expect(page).to_have_url(re.compile(re.escape(console + "/ui/auth/callback")))
    expect(page.get_by_role("alert")).to_contain_text(
        "The identity provider did not sign you in (the person cancelled the sign-in)"
    )
    assert not [c for c in page.context.cookies() if c["name"] == COOKIE]


def _hash(value: str) -> str:
    import hashlib

    return hashlib.sha256(value.encode()).hexdigest()
