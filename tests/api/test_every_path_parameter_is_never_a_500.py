"""Every path parameter of every route (API and console), for every method, filled with what
an attacker or a confused client sends: non-Latin-1 text, nothing, 10 kB, percent-encoded
bytes. The answer may be 2xx, 3xx or 4xx, never 5xx. ``POST
/api/v1/repositories/🙂/sync`` was a 500 (the ``Location`` header was set from the raw
name, which HTTP headers cannot carry), over real HTTP as through the test client.

The routes are read from ``app.routes``: a route added later is covered without editing this.
Requests are made signed in (bearer token, htmx's header) so that they reach past the token
checks, and again on an app without a token (reads open, writes refused)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from helpers.seeding import Seeded

from controller.db import Database
from controller.models import Repository
from controller.web.api import create_app, start_server

TOKEN = "odd-path-token"
SIGNED_IN = {"Authorization": f"Bearer {TOKEN}", "HX-Request": "true"}

ODD_VALUES = {
    "non-latin-1": "🙂",
    "cjk": "設定",
    "empty": "",
    "huge": "x" * 10_000,
    "huge-non-latin-1": "é🙂" * 550,  # 10 kB once percent-encoded
    "percent-slash": "%2F",
    "percent-nul": "%00",
    "percent-utf8": quote("🙂", safe=""),
    "percent-invalid-utf8": "%ff%fe",
    "percent-newline": "a%0d%0aSet-Cookie:%20x=1",
    "dot-dot": "..",
    "quote": "a'\"<b>",
}

PARAMETER = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


def _routes() -> list[tuple[str, str]]:
    """(method, path template) of every route with a path parameter."""
    app = create_app(db_path=Path("/nonexistent/never-opened.db"))
    try:  # FastAPI >= 0.13x keeps an included router as one entry of app.routes
        from fastapi.routing import iter_route_contexts

        routes: list[Any] = list(iter_route_contexts(app.routes))
    except ImportError:
        routes = list(app.routes)
    found = []
    for route in routes:
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if path and methods and PARAMETER.search(path):
            found.extend((method, path) for method in sorted(methods))
    return found


ROUTES = _routes()


def _fill(template: str, value: str) -> str:
    """Every parameter of ``template`` replaced by ``value`` (percent-encoded as a client
    would, unless it is already a percent-encoded form)."""
    encoded = value if "%" in value else quote(value, safe="")
    return PARAMETER.sub(lambda _: encoded, template)


def _declare_repository(db: Database) -> None:
    db.repositories.declare(
        Repository(
            name="infra",
            url="https://git.example.com/ops/infra.git",
            ref="main",
            path=".",
            interval_s=60,
            declared_by="test",
        )
    )


@pytest.fixture
def apps(make_client, db: Database, seeded: Seeded) -> dict[str, object]:
    _declare_repository(db)
    return {
        "signed-in": make_client(token=TOKEN),
        "no-token": make_client(token=None),
    }


def test_the_route_list_covers_the_api_and_the_console() -> None:
    paths = {path for _, path in ROUTES}
    assert "/api/v1/repositories/{name}/sync" in paths
    assert "/api/v1/stacks/{name}/versions/{version}" in paths
    assert "/stacks/{name}" in paths and "/ui/commands/{command_id}/stream" in paths
    assert len(ROUTES) >= 20, ROUTES


@pytest.mark.parametrize("kind", sorted(ODD_VALUES))
def test_no_path_parameter_value_is_a_500(apps: dict[str, object], kind: str) -> None:
    failures = []
    for who, client in apps.items():
        for method, template in ROUTES:
            path = _fill(template, ODD_VALUES[kind])
            try:
                answer = client.request(method, path, headers=SIGNED_IN)  # type: ignore[attr-defined]
            except Exception as e:  # the test client raises what the app did not handle
                failures.append(f"{who} {method} {path[:80]}: raised {e!r}")
                continue
            if answer.status_code >= 500:
                failures.append(f"{who} {method} {path[:80]}: {answer.status_code} {answer.text}")
    assert not failures, "\n".join(failures)


@pytest.fixture
def served(db_path: Path, db: Database) -> Iterator[str]:
    _declare_repository(db)
    server = start_server(create_app(db_path=db_path, token=TOKEN), host="127.0.0.1", port=0)
    try:
        yield server.url
    finally:
        server.stop()


def test_syncing_the_repository_named_a_smiley_is_404_over_http(served: str) -> None:
    with httpx.Client(base_url=served, timeout=10) as http:
        answer = http.post(f"/api/v1/repositories/{quote('🙂')}/sync", headers=SIGNED_IN)
        assert answer.status_code == 404, answer.text
        assert "🙂" in answer.json()["message"]
        known = http.post("/api/v1/repositories/infra/sync", headers=SIGNED_IN)
        assert known.status_code == 202 and known.headers["location"] == (
            "/api/v1/repositories/infra"
        )
