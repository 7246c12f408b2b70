"""The web console in Debian's chromium against a real ``stackctl run`` on the real engine.

What a person does: opens the stacks page, enters the API token once, watches a stack converge,
edits its manifest and sees the new version, then Synced, without reloading; reads the diff of
the changed key; rolls back with one click and follows the command to DONE; is refused without
the token; sees a failing stack's error; reads it all on a phone in dark mode.

Screenshots of the pages go to the test's folder; with ``STACKCTL_UPDATE_SCREENSHOTS=1`` also
to docs/screenshots (docs/console.md shows those).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.browser import PHONE, new_page
from helpers.controller_process import ControllerProcess
from playwright.sync_api import Page, expect

from controller.db import Database
from controller.models import CommandType

pytestmark = [pytest.mark.slow, pytest.mark.browser]

TOKEN = "console-s3cret"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CONVERGE_MS = 60_000  # a functional wait for the engine, not a timing assertion


def write(root: Path, name: str, services: dict[str, Any]) -> None:
    manifest = {
        "apiVersion": "stackctl/v1",
        "kind": "Stack",
        "metadata": {"name": name},
        "spec": {"compose": {"services": services}},
    }
    (root / f"{name}.yaml").write_text(yaml.safe_dump(manifest))


def sleeper(image: str, **extra: Any) -> dict[str, Any]:
    return {"image": image, "command": ["sleep", "3600"], "init": True, **extra}


@pytest.fixture
def console(
    root: Path, tmp_path: Path, engine_janitor: Any, free_port: int, monkeypatch: Any
) -> Iterator[Callable[..., str]]:
    """Starts ``stackctl run --api 127.0.0.1:PORT`` (with the token unless ``token=None``);
    returns the console's base URL. Stopped before the janitor cleans the engine."""
    started: list[ControllerProcess] = []

    def start(*, token: str | None = TOKEN, extra: tuple[str, ...] = ()) -> str:
        if token is None:
            monkeypatch.delenv("STACKCTL_API_TOKEN", raising=False)
        else:
            monkeypatch.setenv("STACKCTL_API_TOKEN", token)
        process = ControllerProcess(
            root, tmp_path / "stackctl.db", extra=("--api", f"127.0.0.1:{free_port}", *extra)
        ).start()
        started.append(process)
        return f"http://127.0.0.1:{free_port}"

    yield start
    for process in started:
        if process.proc and process.proc.poll() is None:
            process.stop()


def enter_token(page: Page, token: str = TOKEN) -> None:
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Use token").click()
    expect(page.get_by_role("button", name="Forget token")).to_be_visible()


def row(page: Page, name: str) -> Any:
    return page.locator(f'tr[data-stack="{name}"]')


def shot(page: Page, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("STACKCTL_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SCREENSHOTS / name)


def test_a_stack_converges_changes_diffs_and_rolls_back_in_the_page(
    page: Page,
    console: Callable[..., str],
    root: Path,
    engine_janitor: Any,
    test_images: Any,
    tmp_path: Path,
) -> None:
    name = engine_janitor.project("ui")
    write(root, name, {"app": sleeper(test_images.v1, environment={"LEVEL": "1"})})
    base = console()

    page.goto(base + "/")
    expect(page.get_by_role("heading", name="API token needed")).to_be_visible()
    enter_token(page)
    expect(row(page, name).locator('[data-field="sync"]')).to_have_text(
        "Synced", timeout=CONVERGE_MS
    )
    expect(row(page, name).locator('[data-field="applied"]')).to_have_text("v1")
    expect(page.locator('[data-count="synced"]')).to_have_text("1")
    # An edit shows up without a reload: the page keeps a value a reload would lose.
    page.evaluate("window.__notReloaded = true")
    write(root, name, {"app": sleeper(test_images.v1, environment={"LEVEL": "2"})})
    expect(row(page, name).locator('[data-field="desired"]')).to_contain_text(
        "v2", timeout=CONVERGE_MS
    )
    expect(row(page, name).locator('[data-field="applied"]')).to_have_text(
        "v2", timeout=CONVERGE_MS
    )
    expect(row(page, name).locator('[data-field="sync"]')).to_have_text("Synced")
    assert page.evaluate("window.__notReloaded") is True

    # The stack's page: conditions, its container, both versions; the diff names the key.
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    expect(page.locator('[data-condition="Synced"]')).to_contain_text("True")
    expect(page.get_by_role("cell", name=f"{name}-app-1")).to_be_visible(timeout=CONVERGE_MS)
    expect(page.locator('tr[data-version="v1"]')).to_be_visible()
    page.get_by_role("link", name="Diff of v2 against the version before it").click()
    changed = page.locator('tr[data-path="services.app.environment.LEVEL"]')
    expect(changed).to_contain_text('"1"')
    expect(changed).to_contain_text('"2"')

    # Roll back to v1 with one click: the command it queued is followed live to DONE.
    page.go_back()
    page.get_by_role("button", name="Roll back to v1").click()
    result = page.locator("#actions-result")
    expect(result).to_contain_text("queued")
    expect(result.locator("[data-status]")).to_have_attribute(
        "data-status", "DONE", timeout=CONVERGE_MS
    )
    expect(result.locator("table.log tbody tr").first).to_be_visible()
    # The rollback is v3 (v1's spec), pinned; the page shows it without a reload.
    expect(page.locator('[data-condition="Pinned"]')).to_contain_text("True", timeout=CONVERGE_MS)
    expect(page.locator('tr[data-version="v3"]')).to_be_visible()


def test_actions_need_the_token_and_are_off_without_one(
    page: Page,
    console: Callable[..., str],
    root: Path,
    engine_janitor: Any,
    test_images: Any,
    tmp_path: Path,
) -> None:
    name = engine_janitor.project("ui")
    write(root, name, {"app": sleeper(test_images.v1)})
    base = console(extra=("--api-open-reads",))
    page.goto(f"{base}/stacks/{name}")
    expect(page.locator('[data-field="applied"]')).to_have_text("v1", timeout=CONVERGE_MS)

    # The token is configured but not entered: the server refuses, nothing is queued.
    page.get_by_role("button", name="Sync").click()
    expect(page.locator("#actions-result [role=alert]")).to_contain_text("Refused")
    with Database(db_path=root.parent / "stackctl.db") as db:
        assert [
            c
            for c in db.commands.list(stack_id=name).items
            if c.type is CommandType.RECONCILE and c.payload.get("reason") == "sync"
        ] == []

    # A wrong token is not taken; the right one makes the same button work.
    page.get_by_label("API token").fill("not-it")
    page.get_by_role("button", name="Use token").click()
    expect(page.locator("#token-result")).to_contain_text("not this controller's API token")
    enter_token(page)
    page.get_by_role("button", name="Sync").click()
    expect(page.locator("#actions-result")).to_contain_text("queued")
    expect(page.locator("#actions-result [data-status]")).to_have_attribute(
        "data-status", "DONE", timeout=CONVERGE_MS
    )


def test_without_a_configured_token_the_buttons_are_disabled_with_the_reason(
    page: Page,
    console: Callable[..., str],
    root: Path,
    engine_janitor: Any,
    test_images: Any,
) -> None:
    name = engine_janitor.project("ui")
    write(root, name, {"app": sleeper(test_images.v1)})
    base = console(token=None)
    page.goto(f"{base}/stacks/{name}")
    expect(page.locator('[data-field="applied"]')).to_have_text("v1", timeout=CONVERGE_MS)
    expect(page.get_by_role("button", name="Resume")).to_have_count(0)  # neither held nor suspended
    for label in ("Sync", "Suspend"):
        button = page.get_by_role("button", name=label)
        expect(button).to_be_disabled()
        expect(button).to_have_attribute(
            "title",
            "Actions are off: this controller has no API"
            " token (start it with STACKCTL_API_TOKEN set to enable"
            " them).",
        )
    expect(page.locator("#why-not")).to_contain_text("no API token")


def test_a_failing_stack_shows_its_error(
    page: Page,
    console: Callable[..., str],
    root: Path,
    engine_janitor: Any,
) -> None:
    name = engine_janitor.project("ui")
    write(root, name, {"app": {"image": "stackctl-test/absent:none", "pull_policy": "never"}})
    base = console(extra=("--api-open-reads",))
    page.goto(base + "/")
    expect(row(page, name).locator('[data-field="flags"]')).to_contain_text(
        "failed", timeout=CONVERGE_MS
    )
    expect(page.locator('[data-count="failed"]')).to_have_text("1")
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.locator('[data-field="error"]')).to_contain_text("stackctl-test/absent:none")
    command = page.locator("tr[data-command]").first
    expect(command).to_contain_text("FAILED", timeout=CONVERGE_MS)
    command.get_by_role("link").click()
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "FAILED")
    expect(page.locator(".command-status [role=alert]")).to_contain_text("absent")


def test_readable_on_a_phone_in_dark_mode(
    browser: Any,
    console: Callable[..., str],
    root: Path,
    engine_janitor: Any,
    test_images: Any,
    tmp_path: Path,
) -> None:
    name = engine_janitor.project("ui")
    write(root, name, {"app": sleeper(test_images.v1)})
    base = console(extra=("--api-open-reads",))
    page = new_page(browser, viewport=PHONE, color_scheme="dark")
    try:
        page.goto(base + "/")
        expect(row(page, name).locator('[data-field="sync"]')).to_have_text(
            "Synced", timeout=CONVERGE_MS
        )
        # Nothing wider than the screen but the tables' own scroll boxes; a dark background.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(15, 20, 25)", background
        shot(page, tmp_path, "console-phone-dark.png")
        page.goto(f"{base}/stacks/{name}")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # Every button has an accessible name.
        for button in page.get_by_role("button").all():
            assert (button.get_attribute("aria-label") or button.inner_text()).strip()
    finally:
        page.close()


def test_screenshots_of_a_small_fleet(
    page: Page,
    console: Callable[..., str],
    root: Path,
    engine_janitor: Any,
    test_images: Any,
    tmp_path: Path,
) -> None:
    """The docs' pictures (docs/console.md): three stacks, one of them failing, and a stack's page
    after an edit (two versions, the diff link, the rollback button)."""
    web, worker, broken = (engine_janitor.project(n) for n in ("web", "worker", "broken"))
    write(root, web, {"app": sleeper(test_images.v1, environment={"LEVEL": "1"})})
    write(root, worker, {"jobs": sleeper(test_images.v1), "cron": sleeper(test_images.v1)})
    write(root, broken, {"app": {"image": "stackctl-test/absent:none", "pull_policy": "never"}})
    base = console(extra=("--api-open-reads",))
    page.goto(base + "/")
    expect(page.locator('[data-count="synced"]')).to_have_text("2", timeout=CONVERGE_MS)
    expect(page.locator('[data-count="failed"]')).to_have_text("1", timeout=CONVERGE_MS)
    write(root, web, {"app": sleeper(test_images.v2, environment={"LEVEL": "2"})})
    expect(row(page, web).locator('[data-field="applied"]')).to_have_text("v2", timeout=CONVERGE_MS)
    expect(page.locator('[data-count="synced"]')).to_have_text("2", timeout=CONVERGE_MS)
    shot(page, tmp_path, "console-stacks.png")
    page.goto(f"{base}/stacks/{web}")
    expect(page.get_by_role("cell", name=f"{web}-app-1")).to_be_visible(timeout=CONVERGE_MS)
    shot(page, tmp_path, "console-stack.png")
    # The status filter keeps the failing stack only; the counts stay those of all stacks.
    page.goto(base + "/")
    page.get_by_label("Status").select_option("failed")
    expect(page.locator("tr[data-stack]")).to_have_count(1)
    expect(row(page, broken)).to_be_visible()
    expect(page.locator('[data-count="total"]')).to_have_text("3")
    page.get_by_label("Name").fill("worker")
    expect(page.get_by_text("No stack matches.")).to_be_visible()


def test_the_api_docs_page_works_offline_and_is_linked(
    page: Page, console: Callable[..., str], root: Path, engine_janitor: Any
) -> None:
    """Every request the docs page makes stays on the controller: any other host is refused
    by the browser here, and Swagger UI still lists the operations."""
    base = console(extra=("--api-open-reads",))
    outside: list[str] = []

    def only_the_controller(route: Any) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_controller)
    page.goto(base + "/")
    page.get_by_role("link", name="API docs").click()
    expect(page.get_by_text("/api/v1/stacks/{name}/rollback").first).to_be_visible()
    assert outside == []
