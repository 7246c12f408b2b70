"""Every answer, console and API, over real HTTP (uvicorn), carries the browser's protections:
a Content-Security-Policy (the console loads scripts, styles and data only from itself and
runs no inline script; nothing may frame it), ``X-Content-Type-Options: nosniff``,
``X-Frame-Options: DENY`` and ``Referrer-Policy: no-referrer``. ``/docs`` (Swagger UI) allows
its one inline script by its hash, not any inline script. The browser test
(test_console_works_under_its_content_security_policy.py) shows the pages still work."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from controller.db import Database
from controller.models import Command, CommandType
from controller.web.api import create_app, start_server

TOKEN = "headers-t0ken"


@pytest.fixture
def url(db_path: Path, db: Database, record_stack: Callable[..., str]) -> Iterator[str]:
    record_stack("shop")
    server = start_server(create_app(db_path=db_path, token=TOKEN), host="127.0.0.1", port=0)
    try:
        yield server.url
    finally:
        server.stop()


def policy(answer: httpx.Response) -> dict[str, str]:
    text = answer.headers.get("content-security-policy", "")
    return {d.split()[0]: d.strip() for d in text.split(";") if d.strip()}


AUTH = {"Authorization": f"Bearer {TOKEN}"}
ANSWERS: list[tuple[str, str, dict[str, str]]] = [
    ("GET", "/", {}),  # the token page (401)
    ("GET", "/", AUTH),
    ("GET", "/stacks/shop", AUTH),
    ("GET", "/stacks/nope", AUTH),  # 404 page
    ("GET", "/ui/stacks/table", AUTH),
    ("POST", "/ui/stacks/shop/sync", {}),  # a refusal fragment
    ("GET", "/ui/static/console.js", {}),
    ("GET", "/ui/static/console.css", {}),
    ("GET", "/api/v1/stacks", AUTH),
    ("GET", "/api/v1/stacks", {}),  # 401
    ("GET", "/healthz", {}),
    ("GET", "/metrics", {}),
    ("GET", "/openapi.json", {}),
    ("GET", "/docs", {}),
    ("GET", "/nowhere", {}),  # 404
]


@pytest.mark.parametrize(("method", "path", "headers"), ANSWERS)
def test_every_answer_has_the_protections(
    url: str, method: str, path: str, headers: dict[str, str]
) -> None:
    answer = httpx.request(method, url + path, headers=headers, timeout=10)
    assert answer.headers.get("x-content-type-options") == "nosniff", path
    assert answer.headers.get("x-frame-options") == "DENY", path
    assert answer.headers.get("referrer-policy") == "no-referrer", path
    directives = policy(answer)
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'", (path, directives)
    assert "'unsafe-eval'" not in answer.headers["content-security-policy"]


def test_the_console_runs_only_its_own_scripts_and_styles(url: str) -> None:
    answer = httpx.get(url + "/stacks/shop", headers=AUTH, timeout=10)
    directives = policy(answer)
    assert directives["default-src"] == "default-src 'self'"
    assert directives["script-src"] == "script-src 'self'"
    assert directives["style-src"] == "style-src 'self'"
    assert directives["base-uri"] == "base-uri 'none'"
    assert directives["form-action"] == "form-action 'self'"
    assert directives["object-src"] == "object-src 'none'"
    # htmx's own <style> and eval would be refused: the page tells htmx not to try.
    assert '"includeIndicatorStyles": false' in answer.text
    assert "<script>" not in answer.text and " style=" not in answer.text


def test_json_answers_may_load_nothing(url: str) -> None:
    directives = policy(httpx.get(url + "/api/v1/stacks", headers=AUTH, timeout=10))
    assert directives["default-src"] == "default-src 'none'"


def test_docs_allow_exactly_their_inline_script(url: str) -> None:
    answer = httpx.get(url + "/docs", timeout=10)
    inline = re.findall(r"<script>(.*?)</script>", answer.text, re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert policy(answer)["script-src"] == f"script-src 'self' 'sha256-{digest}'"


def test_the_headers_do_not_replace_what_a_stream_sets(url: str, db: Database) -> None:
    command = db.commands.enqueue(Command(stack_id="shop", type=CommandType.RECONCILE))
    db.commands.request_cancel(command.command_id, reason="test: a finished command streams")
    with httpx.stream(
        "GET", f"{url}/ui/commands/{command.command_id}/stream", headers=AUTH, timeout=10
    ) as answer:
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-content-type-options"] == "nosniff"
