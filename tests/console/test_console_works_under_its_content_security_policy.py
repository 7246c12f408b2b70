"""In chromium, the console and ``/docs`` work under the Content-Security-Policy the controller
sends, and the browser reports no violation of it: the token is entered (htmx posts it, the
page reloads signed in), the table polls, "Forget token" signs out; a session that ends while a
page is open (expired on the server) sends the page back to the token form by itself; Swagger
UI renders the operations and its Authorize button (the bearer scheme)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from controller.db import Database
from controller.web.api import create_app, start_server

pytestmark = pytest.mark.browser

TOKEN = "csp-t0ken"


@pytest.fixture
def base(db_path: Path, db: Database, record_stack: Any) -> Iterator[str]:
    record_stack("shop")
    server = start_server(create_app(db_path=db_path, token=TOKEN), host="127.0.0.1", port=0)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def violations(page: Page) -> list[str]:
    """What the browser says about the page: CSP refusals and script errors. (Not the
    statuses it logs as "Failed to load resource": the token page is a 401 on purpose, and
    chromium asks for a /favicon.ico there is none of.)"""
    seen: list[str] = []

    def note(message: ConsoleMessage) -> None:
        text = message.text
        if text.startswith("Failed to load resource"):
            return
        if message.type == "error" or "Content Security Policy" in text or "Refused" in text:
            seen.append(text)

    page.on("console", note)
    page.on("pageerror", lambda error: seen.append(f"page error: {error}"))
    return seen


def sign_in(page: Page) -> None:
    page.get_by_label("API token").fill(TOKEN)
    page.get_by_role("button", name="Use token").click()
    expect(page.get_by_role("button", name="Forget token")).to_be_visible()


def test_the_console_signs_in_polls_and_signs_out_with_no_violation(
    page: Page, base: str, violations: list[str]
) -> None:
    page.goto(base + "/")
    expect(page.get_by_role("heading", name="API token needed")).to_be_visible()
    sign_in(page)
    expect(page.locator('tr[data-stack="shop"]')).to_be_visible()
    with page.expect_response(lambda r: "/ui/stacks/table" in r.url):  # the poll runs
        pass
    page.get_by_role("button", name="Forget token").click()
    expect(page.get_by_role("heading", name="API token needed")).to_be_visible()
    expect(page.get_by_role("button", name="Use token")).to_be_visible()
    assert violations == []


def test_a_session_ended_on_the_server_sends_the_open_page_to_the_token_form(
    page: Page, base: str, db_path: Path, violations: list[str]
) -> None:
    page.goto(base + "/")
    sign_in(page)
    expect(page.locator('tr[data-stack="shop"]')).to_be_visible()
    with sqlite3.connect(db_path) as conn:  # its 12 hours are over
        conn.execute(
            "UPDATE console_sessions SET created_at = '2000-01-01T00:00:00.000000Z',"
            " expires_at = '2000-01-01T12:00:00.000000Z'"
        )
    # The next poll (every 2 s) is refused and reloads the page: the token form, saying why.
    expect(page.get_by_role("heading", name="API token needed")).to_be_visible(timeout=15_000)
    expect(page.locator("#token-result")).to_contain_text("session ended")
    assert violations == []


def test_swagger_ui_renders_with_its_authorize_button_and_no_violation(
    page: Page, base: str, violations: list[str]
) -> None:
    page.goto(base + "/docs")
    expect(page.get_by_role("button", name="Authorize")).to_be_visible(timeout=15_000)
    expect(page.get_by_text("/api/v1/stacks/{name}/sync").first).to_be_visible()
    # The token goes in through Authorize, and an operation is tried with it.
    page.get_by_role("button", name="Authorize").click()
    page.locator(".modal-ux input").fill(TOKEN)
    page.locator(".modal-ux button.authorize").click()
    page.locator(".modal-ux button.btn-done").click()
    page.locator("#operations-default-list_stacks_api_v1_stacks_get .opblock-summary").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    expect(page.locator(".live-responses-table .response .response-col_status")).to_have_text("200")
    assert violations == []
