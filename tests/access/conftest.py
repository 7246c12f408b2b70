"""Fixtures of the access tests: apps on the test's database built with ``create_app`` and
driven with FastAPI's TestClient (``db_path`` and ``db`` come from tests/conftest.py)."""

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


@pytest.fixture
def make_console(db_path: Path, db: Database) -> Iterator[Callable[..., TestClient]]:
    """``make_console(token=..., access_policy=...)``: a client of a new app on the test's
    database (its own cookie jar), closed at the end of the test."""
    clients: list[TestClient] = []

    def make(**options: Any) -> TestClient:
        test_client = TestClient(create_app(**{"db_path": db_path, **options}))
        clients.append(test_client.__enter__())
        return test_client

    yield make
    for test_client in clients:
        test_client.__exit__(None, None, None)
