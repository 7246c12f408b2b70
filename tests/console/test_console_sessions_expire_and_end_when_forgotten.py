"""Console sessions are records of the database, over real HTTP (uvicorn): the cookie holds a
random id (not a function of the token, which could never be revoked), the session ends at its
expiry (``session_hours``) or when "Forget token" is clicked, and a cookie of an ended session
works nowhere, even replayed by whoever copied it. An ended session sends the page back to the
token form: a page shows it saying why, an htmx request (a poll, a button) is told to reload.
The cookie is ``Secure`` when the console is reached over https (``public_url``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers.controller_process import ControllerProcess

from controller.db import Database
from controller.web.api import create_app, start_server

TOKEN = "session-t0ken"
COOKIE = "stackctl_console"
HX = {"HX-Request": "true"}


@pytest.fixture
def serve(db_path: Path, db: Database) -> Iterator[Callable[..., str]]:
    """``serve(**create_app options)``: the app on a free port of 127.0.0.1; its base URL."""
    servers: list[Any] = []

    def start(**options: Any) -> str:
        app = create_app(**{"db_path": db_path, "token": TOKEN, **options})
        server = start_server(app, host="127.0.0.1", port=0)
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def shop(record_stack: Callable[..., str]) -> str:
    return record_stack("shop")


def sign_in(url: str) -> tuple[str, str]:
    """Enter the token as the page does; the cookie's value and its Set-Cookie header."""
    answer = httpx.post(f"{url}/ui/session", data={"token": TOKEN}, headers=HX, timeout=10)
    assert answer.status_code == 204, answer.text
    header = answer.headers["set-cookie"]
    cookie: SimpleCookie = SimpleCookie()
    cookie.load(header)
    return cookie[COOKIE].value, header


def with_cookie(value: str, url: str) -> httpx.Client:
    return httpx.Client(base_url=url, cookies={COOKIE: value}, timeout=10)


def session_rows(db_path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(
            "SELECT session_hash, created_at, expires_at FROM console_sessions"
        ).fetchall()


def test_each_sign_in_is_a_new_random_session_not_a_function_of_the_token(
    serve: Callable[..., str], shop: str, db_path: Path
) -> None:
    url = serve()
    first, header = sign_in(url)
    second, _ = sign_in(url)
    assert first != second and len(first) >= 32
    assert TOKEN not in header
    lowered = header.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered and "secure" not in lowered
    rows = session_rows(db_path)
    assert len(rows) == 2
    assert {first, second}.isdisjoint(row[0] for row in rows)  # stored hashed: a copy of the
    # database gives no live cookie
    for value in (first, second):
        with with_cookie(value, url) as http:
            assert http.get("/").status_code == 200


def test_forget_token_ends_the_session_on_the_server_at_once(
    serve: Callable[..., str], shop: str
) -> None:
    url = serve()
    value, _ = sign_in(url)
    copied = value  # whoever copied the cookie before the person signed out
    with with_cookie(value, url) as http:
        assert http.post("/ui/stacks/shop/sync", headers=HX).status_code == 202
        answer = http.post("/ui/session/forget", headers=HX)
        assert answer.status_code == 204
    with with_cookie(copied, url) as http:
        page = http.get("/")
        assert page.status_code == 401 and "API token needed" in page.text
        refused = http.post("/ui/stacks/shop/sync", headers=HX)
        assert refused.status_code == 401
        assert refused.headers.get("hx-refresh") == "true"  # back to the token form


def test_a_session_ends_at_its_expiry_and_the_page_asks_for_the_token_again(
    serve: Callable[..., str], shop: str, db_path: Path
) -> None:
    url = serve(session_hours=2)
    before = datetime.now(UTC)
    value, _ = sign_in(url)
    ((_, created, expires),) = session_rows(db_path)
    lifetime = datetime.fromisoformat(expires) - datetime.fromisoformat(created)
    assert lifetime == timedelta(hours=2)
    assert datetime.fromisoformat(created) >= before - timedelta(seconds=1)
    with with_cookie(value, url) as http:
        assert http.get("/stacks/shop").status_code == 200
        with sqlite3.connect(db_path) as conn:  # two hours later
            conn.execute(
                "UPDATE console_sessions SET created_at = '2000-01-01T00:00:00.000000Z',"
                " expires_at = '2000-01-01T02:00:00.000000Z'"
            )
        page = http.get("/stacks/shop")
        assert page.status_code == 401
        assert "API token needed" in page.text and "session ended" in page.text
        poll = http.get("/ui/stacks/table", headers=HX)
        assert poll.status_code == 401 and poll.headers.get("hx-refresh") == "true"
        assert http.post("/ui/stacks/shop/sync", headers=HX).status_code == 401


def test_with_open_reads_an_ended_session_shows_the_pages_and_the_token_form(
    serve: Callable[..., str], shop: str, db_path: Path
) -> None:
    url = serve(open_reads=True)
    value, _ = sign_in(url)
    with with_cookie(value, url) as http:
        assert "Forget token" in http.get("/").text
        assert http.post("/ui/session/forget", headers=HX).status_code == 204
    with with_cookie(value, url) as http:
        page = http.get("/")
        assert page.status_code == 200
        assert "Forget token" not in page.text and 'hx-post="/ui/session"' in page.text
        assert "session ended" in page.text


def test_a_new_token_ends_every_session(serve: Callable[..., str], shop: str) -> None:
    value, _ = sign_in(serve())
    other = serve(token="a-new-token")
    with with_cookie(value, other) as http:
        assert http.get("/").status_code == 401


def test_over_https_the_cookie_is_secure(serve: Callable[..., str], shop: str) -> None:
    _, header = sign_in(serve(public_url="https://stackctl.example.com/"))
    assert "secure" in header.lower()


def test_stackctl_run_gives_sessions_the_hours_and_the_secure_cookie_it_is_told(
    root: Path,
    tmp_path: Path,
    free_port: int,
    engine_janitor: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STACKCTL_API_TOKEN", TOKEN)
    db_file = tmp_path / "stackctl.db"
    process = ControllerProcess(
        root,
        db_file,
        extra=(
            "--api",
            f"127.0.0.1:{free_port}",
            "--console-session-hours",
            "3",
            "--public-url",
            "https://stackctl.example.com/",
        ),
    ).start()
    try:
        _, header = sign_in(f"http://127.0.0.1:{free_port}")
        assert "secure" in header.lower()  # reached through https, as --public-url says
        ((_, created, expires),) = session_rows(db_file)
        assert datetime.fromisoformat(expires) - datetime.fromisoformat(created) == timedelta(
            hours=3
        )
    finally:
        process.stop()
