"""The browser fixtures work: chromium opens a page served on 127.0.0.1, finds a button by
its role and name, clicks it, and sees the page's script change the text; the vendored htmx
(controller/web/console/static/htmx.min.js) loads and is version 2."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[2] / "controller" / "web" / "console" / "static"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>self-test</title></head>
<body>
  <p id="status">waiting</p>
  <button type="button" id="go">Go</button>
  <script>
    document.getElementById("go").addEventListener("click", () => {
      document.getElementById("status").textContent = "clicked";
    });
  </script>
</body></html>
"""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    """tmp_path served over HTTP on 127.0.0.1:<free port>; the server stops afterwards."""
    (tmp_path / "index.html").write_text(PAGE, encoding="utf-8")
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_button_found_by_its_role_and_name_runs_the_page_script(page: Any, site: str) -> None:
    page.goto(f"{site}/index.html")
    assert page.locator("#status").text_content() == "waiting"

    page.get_by_role("button", name="Go").click()

    page.wait_for_function("document.getElementById('status').textContent === 'clicked'")
    assert page.locator("#status").text_content() == "clicked"


def test_the_vendored_htmx_loads_and_is_version_2(page: Any) -> None:
    page.set_content("<!doctype html><html><body><p>htmx</p></body></html>")
    page.add_script_tag(content=(STATIC / "htmx.min.js").read_text(encoding="utf-8"))

    version = page.evaluate("window.htmx && window.htmx.version")

    assert isinstance(version, str) and version.startswith("2"), version
