"""A real browser for the web console's tests: Debian's chromium driven by Playwright.

``playwright install`` cannot download Playwright's own browsers here, so ``launch_chromium``
starts Playwright's sync API and launches the chromium that ``scripts/browser.sh`` installs
(``apt-get install chromium``) through ``executable_path``: ``$STACKCTL_CHROMIUM`` when set,
else ``chromium`` on PATH; headless, with ``--no-sandbox`` (the tests run as root).

The ``browser`` (session) and ``page`` (function) fixtures in tests/conftest.py use it;
``new_page`` gives a test a page of its own size or colour scheme (a phone, dark mode):

    page = new_page(browser, viewport=PHONE, color_scheme="dark")
    try:
        ...
    finally:
        page.close()  # closes its own context too

A missing chromium or ``playwright`` package is a ``BrowserUnavailable`` with the command that
installs it: the fixture skips with it, and fails in CI (``STACKCTL_REQUIRE_DOCKER=1``/``CI``).

While Playwright's sync API is started, asyncio sees a running event loop in the main thread
(``asyncio.run()`` refuses to start there), so the tests that use the browser run last
(tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

INSTALL_HINT = (
    "run `bash scripts/browser.sh` as root (apt-get install chromium) and "
    "`pip install -e '.[dev]'` (playwright)"
)
#: the viewport of the ``page`` fixture and of ``new_page`` without one
DESKTOP: dict[str, int] = {"width": 1280, "height": 800}
#: a phone-size viewport for ``new_page``
PHONE: dict[str, int] = {"width": 390, "height": 844}


class BrowserUnavailable(RuntimeError):
    """Chromium or Playwright is missing, or chromium does not start (the message says why)."""


def chromium_path() -> str | None:
    """The chromium to launch: ``$STACKCTL_CHROMIUM``, else ``chromium`` on PATH, else None."""
    configured = os.environ.get("STACKCTL_CHROMIUM", "").strip()
    if configured:
        return shutil.which(configured) or (configured if os.access(configured, os.X_OK) else None)
    return shutil.which("chromium")


@contextlib.contextmanager
def launch_chromium() -> Iterator[Browser]:
    """Start Playwright and a headless chromium; close both on exit, whatever happened."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise BrowserUnavailable(f"no playwright package ({exc}); {INSTALL_HINT}") from None
    executable = chromium_path()
    if executable is None:
        where = os.environ.get("STACKCTL_CHROMIUM") or "chromium on PATH"
        raise BrowserUnavailable(f"no chromium ({where}); {INSTALL_HINT}")
    playwright = sync_playwright().start()
    try:
        try:
            browser = playwright.chromium.launch(
                executable_path=executable, args=["--no-sandbox"], headless=True
            )
        except PlaywrightError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            raise BrowserUnavailable(f"{executable} does not start: {first}") from exc
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


def new_page(
    browser: Browser,
    *,
    viewport: dict[str, int] | None = None,
    color_scheme: str | None = None,
) -> Page:
    """A page in a context of its own (``DESKTOP`` viewport unless given; ``color_scheme``
    "dark"/"light" emulates ``prefers-color-scheme``). ``page.close()`` closes the context."""
    options: dict[str, Any] = {"viewport": viewport or DESKTOP}
    if color_scheme is not None:
        options["color_scheme"] = color_scheme
    return browser.new_page(**options)
