"""The stacks table in chromium with 250 stacks (no engine): the page shows the first hundred,
the pager walks to the others (the address follows), the name filter still works; a change to
one stack replaces that row only (the other rows are the same elements, the page is not
reloaded, its relative time is shown), a new stack appears and a removed one disappears
without a reload, and the browser reports no error or policy violation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.fleet import add_stack
from playwright.sync_api import ConsoleMessage, Page, expect

from controller.db import Database
from controller.models import HealthStatus
from controller.web.api import create_app, start_server

pytestmark = pytest.mark.browser

POLL_MS = 10_000  # a functional wait for the 2-second poll, not a timing assertion


@pytest.fixture
def base(db_path: Path, db: Database) -> Iterator[str]:
    for i in range(250):
        add_stack(db, f"app-{i:03d}", 1)
    server = start_server(create_app(db_path=db_path), host="127.0.0.1", port=0)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def problems(page: Page) -> list[str]:
    seen: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            seen.append(message.text)

    page.on("console", note)
    page.on("pageerror", lambda error: seen.append(f"page error: {error}"))
    return seen


def rows(page: Page) -> Any:
    return page.locator("tr[data-stack]")


def test_pages_filter_and_polls_update_one_row(
    page: Page, base: str, db: Database, problems: list[str]
) -> None:
    page.goto(base + "/")
    expect(rows(page)).to_have_count(100)
    expect(page.locator("[data-range]")).to_have_text("Stacks 1\u2013100 of 250")
    page.get_by_role("link", name="Next").click()
    expect(rows(page).first).to_have_attribute("data-stack", "app-100")
    assert page.url.endswith("/?page=2")
    page.get_by_role("link", name="Last").click()
    expect(rows(page)).to_have_count(50)
    expect(page.locator("[data-page-of]")).to_have_text("Page 3 of 3")
    page.get_by_label("Name").fill("app-24")
    expect(rows(page)).to_have_count(10)
    page.get_by_label("Name").fill("")
    expect(rows(page)).to_have_count(100)

    # One stack changes: its row is replaced, the others stay the same elements.
    page.evaluate(
        "document.querySelectorAll('tr[data-stack]').forEach(r => r.__kept = true);"
        " window.__notReloaded = true"
    )
    db.stacks.update("app-003", health_status=HealthStatus.DEGRADED)
    changed = page.locator('tr[data-stack="app-003"] [data-field="health"]')
    expect(changed).to_have_text("Degraded", timeout=POLL_MS)
    expect(page.locator('[data-count="degraded"]')).to_have_text("1")
    kept = page.evaluate(
        "[...document.querySelectorAll('tr[data-stack]')].filter(r => r.__kept)"
        ".map(r => r.dataset.stack)"
    )
    assert kept == [f"app-{i:03d}" for i in range(100) if i != 3]
    ago = page.locator('tr[data-stack="app-003"] time.ago')
    expect(ago).to_have_text("just now")

    # A new stack sorted onto the page appears, a removed one disappears.
    add_stack(db, "app-0005", 1)
    expect(rows(page).nth(1)).to_have_attribute("data-stack", "app-0005", timeout=POLL_MS)
    db.stacks.delete("app-001")
    expect(page.locator('tr[data-stack="app-001"]')).to_have_count(0, timeout=POLL_MS)
    expect(rows(page)).to_have_count(100)
    expect(page.locator('[data-count="total"]')).to_have_text("250")
    assert page.evaluate("window.__notReloaded") is True
    assert problems == []
