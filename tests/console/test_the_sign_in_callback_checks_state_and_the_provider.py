"""The OpenID Connect flow without a browser, over real HTTP against the real provider
(``oidc_provider``): the console sends the browser to the provider with PKCE (S256), a state
and a nonce; the provider's redirect back opens a session of the person; the same callback
replayed, or brought by another browser (no pending sign-in), or naming another issuer, is
refused with a page; a provider that does not answer, or whose discovery names another issuer,
is a page that says so; signing out ends the session and sends the browser to the provider's
end-session endpoint, which comes back to the console."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from helpers.oidc import SCOPES, free_port, start_sign_in

from controller.config.oidc import OidcConfig
from controller.db import Database
from controller.web.api import create_app, start_server

COOKIE = "stackctl_console"
HX = {"HX-Request": "true"}


@pytest.fixture
def serve(db_path: Path) -> Iterator[Callable[..., str]]:
    """``serve(port, **create_app options)``: the app on 127.0.0.1:port; its base URL."""
    servers: list[Any] = []

    def start(port: int = 0, **options: Any) -> str:
        server = start_server(create_app(db_path=db_path, **options), host="127.0.0.1", port=port)
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def console(oidc_provider: Any, serve: Callable[..., str]) -> Iterator[httpx.Client]:
    """A browser's view of the console (its own cookies), on the provider's client's port."""
    url = serve(oidc_provider.console_port, **oidc_provider.app_options())
    with httpx.Client(base_url=url, timeout=15) as client:
        yield client


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def through_provider(provider: Any, authorize: str, user: str = "alice") -> str:
    return str(provider.log_in_over_http(authorize, user))


def test_a_sign_in_sends_pkce_state_and_nonce_and_opens_a_session(
    oidc_provider: Any, console: httpx.Client, db: Database
) -> None:
    authorize = start_sign_in(console, "/stacks/shop")
    asked = query(authorize)
    assert authorize.startswith(oidc_provider.issuer + "/auth?")
    assert asked["response_type"] == "code" and asked["client_id"] == oidc_provider.client_id
    assert asked["redirect_uri"] == oidc_provider.redirect_uri and asked["scope"] == SCOPES
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert len(asked["state"]) >= 20 and len(asked["nonce"]) >= 20
    pending = console.cookies.get("stackctl_sign_in")
    assert pending and asked["state"] in _session_data(pending)  # the state waits in the cookie

    callback = through_provider(oidc_provider, authorize)
    back = query(callback)
    assert back["state"] == asked["state"] and back["iss"] == oidc_provider.issuer
    answer = console.get(callback)
    assert answer.status_code == 200, answer.text
    assert '<meta http-equiv="refresh" content="0; url=/stacks/shop">' in answer.text
    assert "samesite=strict" in answer.headers["set-cookie"].lower()
    assert not console.cookies.get("stackctl_sign_in")  # the pending sign-in is over
    page = console.get("/")
    assert '<span id="signed-in-as">Signed in as <strong>alice</strong>' in page.text
    [entry] = db.audit.list(who="alice").items
    assert entry.action == "sign-in" and entry.detail == "groups: ops; sub: alice"


def test_a_callback_replayed_or_brought_by_another_browser_is_refused(
    oidc_provider: Any, console: httpx.Client, db: Database
) -> None:
    callback = through_provider(oidc_provider, start_sign_in(console))
    with httpx.Client(base_url=str(console.base_url), timeout=15) as elsewhere:
        injected = elsewhere.get(callback)  # no sign-in was started in this browser
        assert injected.status_code == 400
        assert "This sign-in did not start here" in injected.text
        assert COOKIE not in injected.cookies
    assert console.get(callback).status_code == 200
    replayed = console.get(callback)
    assert replayed.status_code == 400 and "did not start here" in replayed.text
    assert len(db.audit.list().items) == 1  # one sign-in


def test_a_callback_naming_another_issuer_is_refused(
    oidc_provider: Any, console: httpx.Client, db: Database
) -> None:
    callback = through_provider(oidc_provider, start_sign_in(console))
    mixed = callback.replace("iss=", "iss=https%3A%2F%2Fevil.example.com&was=")
    answer = console.get(mixed)
    assert answer.status_code == 400 and "comes from another provider" in answer.text
    assert not db.audit.list().items


def test_an_error_from_the_provider_is_a_page(oidc_provider: Any, console: httpx.Client) -> None:
    state = query(start_sign_in(console))["state"]
    answer = console.get(
        "/ui/auth/callback",
        params={"error": "access_denied", "error_description": "no", "state": state},
    )
    assert answer.status_code == 400
    assert "The identity provider did not sign you in (no)." in answer.text
    assert "Traceback" not in answer.text


def test_signing_out_ends_the_session_and_goes_to_the_providers_end_session(
    oidc_provider: Any, console: httpx.Client, db: Database
) -> None:
    assert oidc_provider.sign_in_over_http(console, "alice").status_code == 200
    cookie = console.cookies[COOKIE]
    assert console.post("/ui/logout").status_code == 403  # not from the console's page
    answer = console.post("/ui/logout", headers=HX)
    assert answer.status_code == 204
    target = answer.headers["hx-redirect"]
    assert target.startswith(oidc_provider.issuer + "/session/end?")
    assert query(target) == {
        "client_id": oidc_provider.client_id,
        "post_logout_redirect_uri": oidc_provider.console_url + "/",
    }
    with httpx.Client(base_url=str(console.base_url), cookies={COOKIE: cookie}) as copied:
        assert copied.get("/").status_code == 401
    assert [e.action for e in db.audit.list().items] == ["sign-out", "sign-in"]
    ended = httpx.get(target, timeout=15)  # the provider knows the client and the address
    assert ended.status_code == 200 and "Error at the test provider" not in ended.text


def test_a_provider_that_does_not_answer_is_a_page(serve: Callable[..., str]) -> None:
    nowhere = OidcConfig(f"http://127.0.0.1:{free_port()}", "stackctl", "s")
    url = serve(oidc=nowhere)
    answer = httpx.get(url + "/ui/login", timeout=30)
    assert answer.status_code == 502
    assert "The identity provider does not answer at http://127.0.0.1:" in answer.text
    assert "<h1>Sign-in failed</h1>" in answer.text


def test_a_discovery_naming_another_issuer_is_refused(
    oidc_provider: Any, serve: Callable[..., str]
) -> None:
    spelled = oidc_provider.issuer.replace("localhost", "127.0.0.1")  # not what it names
    url = serve(oidc=OidcConfig(spelled, oidc_provider.client_id, oidc_provider.client_secret))
    answer = httpx.get(url + "/ui/login", timeout=30)
    assert answer.status_code == 502
    said = html.unescape(answer.text)
    assert f"names the issuer '{oidc_provider.issuer}', not '{spelled}'" in said


def test_without_sign_in_there_is_no_sign_in(serve: Callable[..., str]) -> None:
    url = serve(token="t0ken")
    page = httpx.get(url + "/", timeout=10)
    assert "Sign in" not in page.text and 'id="token-input"' in page.text
    answer = httpx.get(url + "/ui/login", timeout=10)
    assert answer.status_code == 404 and "Sign-in is not configured" in answer.text
    assert httpx.get(url + "/ui/auth/callback?code=x&state=y", timeout=10).status_code == 404


def test_with_sign_in_and_a_token_the_page_offers_both(
    oidc_provider: Any, serve: Callable[..., str]
) -> None:
    url = serve(token="t0ken", oidc=oidc_provider.config())
    page = httpx.get(url + "/stacks/shop", timeout=10)
    assert page.status_code == 401
    assert 'href="/ui/login?next=/stacks/shop"' in page.text and 'id="token-input"' in page.text
    only = serve(oidc=oidc_provider.config())
    page = httpx.get(only + "/", timeout=10)
    assert page.status_code == 401 and "<h1>Sign in</h1>" in page.text
    assert 'id="token-input"' not in page.text  # no token to enter


def _session_data(cookie: str) -> str:
    """What Starlette's signed session cookie holds (base64 JSON before the signature)."""
    import base64

    payload = cookie.strip('"').split(".")[0]
    return base64.b64decode(payload + "=" * (-len(payload) % 4)).decode()


def test_stackctl_run_signs_people_in_with_its_oidc_flags(
    oidc_provider: Any, root: Path, tmp_path: Path
) -> None:
    from helpers.controller_process import ControllerProcess

    process = ControllerProcess(root, tmp_path / "run.db", extra=oidc_provider.run_flags()).start()
    try:
        with httpx.Client(base_url=oidc_provider.console_url, timeout=15) as console:
            assert oidc_provider.sign_in_over_http(console, "carol").status_code == 200
            page = console.get("/")
        assert '<span id="signed-in-as">Signed in as <strong>carol</strong>' in page.text
    finally:
        process.stop()
    assert "people sign in at " + oidc_provider.issuer in process.log.read_text()


@pytest.mark.parametrize(
    "elsewhere", ["//evil.example.com/x", "/\t/evil.example.com", "https://evil.example.com"]
)
def test_the_page_to_come_back_to_is_only_one_of_the_console(
    oidc_provider: Any, console: httpx.Client, elsewhere: str
) -> None:
    callback = through_provider(oidc_provider, start_sign_in(console, elsewhere))
    answer = console.get(callback)
    assert answer.status_code == 200
    assert '<meta http-equiv="refresh" content="0; url=/">' in answer.text
