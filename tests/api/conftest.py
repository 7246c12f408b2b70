"""Fixtures of the API tests: a client of the app on the test's database (``db_path``, ``db`` and
``seeded`` come from tests/conftest.py), a factory for apps with other options, the token."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # starlette asks for httpx2 in its TestClient; httpx is what the project declares.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from helpers.app_clients import app_clients

from controller.db import Database
from controller.web.api import create_app

TOKEN = "s3cret-token"


@pytest.fixture
def client(db_path: Path, db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(db_path=db_path, token=TOKEN)) as test_client:
        yield test_client


@pytest.fixture
def make_client(db_path: Path, db: Database) -> Iterator[Callable[..., TestClient]]:
    """``make_client(token=..., readiness=..., engine_calls=..., db_path=...)``: a client of an
    app of its own (on the test's database unless ``db_path`` says otherwise)."""
    with app_clients(db_path) as make:
        yield make


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}
