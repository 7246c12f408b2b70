"""Fixtures of the console's fast tests (no engine, no browser): apps on the test's database
(``db_path`` and ``db`` come from tests/conftest.py) built with ``create_app`` and driven with
FastAPI's TestClient, and a way to record stacks' versions as the controller does."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers.seeding import record
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # starlette asks for httpx2 in its TestClient; httpx is what the project declares.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from helpers.app_clients import app_clients

from controller.db import Database

CONSOLE_TOKEN = "console-t0ken"


@pytest.fixture
def console_token() -> str:
    return CONSOLE_TOKEN


@pytest.fixture
def make_console(db_path: Path, db: Database) -> Iterator[Callable[..., TestClient]]:
    """``make_console(token=..., open_reads=..., observe=...)``: a client of a new app on the
    test's database (its own cookie jar), closed at the end of the test."""
    with app_clients(db_path) as make:
        yield make


@pytest.fixture
def record_stack(db: Database, tmp_path: Path) -> Callable[..., str]:
    """``record_stack(name, image, applied=True, **env)``: a new version of the stack recorded
    from a manifest (applied and Synced/Healthy when ``applied``); returns its label."""

    def make(
        name: str, image: str = "stackctl-test/busybox:1", *, applied: bool = True, **env: str
    ) -> str:
        return record(db, tmp_path, name, image, applied=applied, **env)

    return make


@pytest.fixture
def sign_in() -> Callable[[TestClient, str], None]:
    """``sign_in(client, token)``: enter the token as the page does (``POST /ui/session``);
    the client keeps the session cookie."""

    def enter(client: TestClient, token: str = CONSOLE_TOKEN) -> None:
        answer = client.post("/ui/session", data={"token": token})
        assert answer.status_code == 204, answer.text
        assert client.cookies.get("stackctl_console"), "no session cookie was set"

    return enter
