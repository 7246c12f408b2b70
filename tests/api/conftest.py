"""Fixtures of the API tests: a client of the app on the test's database (``db_path``, ``db`` and
``seeded`` come from tests/conftest.py), a factory for apps with other options, the token."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # starlette asks for httpx2 in its TestClient; httpx is what the project declares.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

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
    clients: list[TestClient] = []

    def make(**options: Any) -> TestClient:
        test_client = TestClient(create_app(**{"db_path": db_path, **options}))
        clients.append(test_client.__enter__())
        return test_client

    yield make
    for test_client in clients:
        test_client.__exit__(None, None, None)


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}
