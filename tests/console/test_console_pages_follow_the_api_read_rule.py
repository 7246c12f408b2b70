"""The console's pages and fragments follow the API's read rule: open without a token or with
``--api-open-reads``; otherwise a page answers 401 with the token form and a fragment a bare
401, until the token is entered at ``/ui/session`` (a session cookie, never the token itself,
HttpOnly and SameSite=Strict; ``/ui/session/forget`` deletes it)."""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import SimpleCookie

import pytest

from controller.db import Database
from controller.models import Command, CommandType

COOKIE = "stackctl_console"


@pytest.fixture
def urls(db: Database, record_stack: Callable[..., str]) -> dict[str, list[str]]:
    record_stack("shop", "stackctl-test/busybox:1")
    record_stack("shop", "stackctl-test/busybox:2")
    command = db.commands.enqueue(Command(stack_id="shop", type=CommandType.RECONCILE))
    return {
        "pages": ["/", "/stacks/shop", "/stacks/shop/diff", f"/commands/{command.command_id}"],
        "fragments": ["/ui/stacks/table", "/ui/stacks/shop/body"],
    }


def test_without_a_token_everything_is_open(make_console, urls) -> None:
    client = make_console()
    for url in urls["pages"] + urls["fragments"]:
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert "Read-only: no API token configured" in answer.text or url.startswith("/ui/")


def test_a_token_without_open_reads_asks_for_it(make_console, urls, console_token) -> None:
    client = make_console(token=console_token)
    for url in urls["pages"]:
        answer = client.get(url)
        assert answer.status_code == 401, url
        assert "API token needed" in answer.text, url
        assert 'hx-post="/ui/session"' in answer.text, url
        assert 'name="token"' in answer.text, url
        assert "stackctl-test/busybox" not in answer.text, url
    for url in urls["fragments"]:
        answer = client.get(url)
        assert answer.status_code == 401, url
        assert "shop" not in answer.text, url


def test_the_session_cookie_opens_the_pages(make_console, urls, console_token, sign_in) -> None:
    client = make_console(token=console_token)
    sign_in(client, console_token)
    for url in urls["pages"] + urls["fragments"]:
        answer = client.get(url)
        assert answer.status_code == 200, url
    assert "Token entered" in client.get("/").text


def test_open_reads_need_no_session(make_console, urls, console_token) -> None:
    client = make_console(token=console_token, open_reads=True)
    for url in urls["pages"] + urls["fragments"]:
        assert client.get(url).status_code == 200, url
    page = client.get("/stacks/shop").text
    assert 'hx-post="/ui/session"' in page  # the token form, to act


def test_a_wrong_token_sets_no_cookie(make_console, urls, console_token) -> None:
    client = make_console(token=console_token)
    answer = client.post("/ui/session", data={"token": "not-" + console_token})
    assert answer.status_code == 401
    assert "set-cookie" not in answer.headers
    assert COOKIE not in client.cookies
    assert client.get("/").status_code == 401


def test_the_cookie_proves_the_token_without_being_it(make_console, urls, console_token) -> None:
    client = make_console(token=console_token)
    answer = client.post("/ui/session", data={"token": console_token})
    assert answer.status_code == 204
    header = answer.headers["set-cookie"]
    cookie = SimpleCookie()
    cookie.load(header)
    value = cookie[COOKIE].value
    assert value
    assert console_token not in value
    assert console_token not in header
    lowered = header.lower()
    assert "httponly" in lowered
    assert "samesite=strict" in lowered
    assert "path=/" in lowered
    assert "expires" not in lowered and "max-age" not in lowered  # a session cookie


def test_a_cookie_for_another_token_is_refused(make_console, urls, console_token) -> None:
    other = make_console(token="another-token")
    other.post("/ui/session", data={"token": "another-token"})
    stolen = other.cookies.get(COOKIE)
    assert stolen
    client = make_console(token=console_token)
    client.cookies.set(COOKIE, stolen)
    assert client.get("/").status_code == 401
    client.cookies.set(COOKIE, console_token)  # the raw token is not a session either
    assert client.get("/").status_code == 401


def test_forget_deletes_the_cookie(make_console, urls, console_token, sign_in) -> None:
    client = make_console(token=console_token)
    sign_in(client, console_token)
    assert client.get("/").status_code == 200
    assert client.post("/ui/session/forget").status_code == 403  # not from the console: kept
    assert client.get("/").status_code == 200
    answer = client.post("/ui/session/forget", headers={"HX-Request": "true"})
    assert answer.status_code == 204
    header = answer.headers["set-cookie"].lower()
    assert header.startswith(COOKIE + "=")
    assert "max-age=0" in header or "expires=thu, 01 jan 1970" in header
    assert COOKIE not in client.cookies
    assert client.get("/").status_code == 401
