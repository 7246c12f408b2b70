"""Fixtures of the access tests: apps on the test's database built with ``create_app`` and
driven with FastAPI's TestClient (``db_path`` and ``db`` come from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers.app_clients import TestClient, app_clients

from controller.db import Database


@pytest.fixture
def make_console(db_path: Path, db: Database) -> Iterator[Callable[..., TestClient]]:
    """``make_console(token=..., access_policy=...)``: a client of a new app on the test's
    database (its own cookie jar), closed at the end of the test."""
    with app_clients(db_path) as make:
        yield make
