"""Clients of apps made with ``create_app`` on a test's database, driven with FastAPI's
TestClient: ``app_clients(db_path)`` gives a factory ``make(**options)`` (its own app and
cookie jar each) and closes every client it made when the block ends. The API's, the console's
and the access tests' fixtures are this one factory under their names."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # starlette asks for httpx2 in its TestClient; httpx is what the project declares.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from controller.web.api import create_app


@contextmanager
def app_clients(db_path: Path) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(**options: Any) -> TestClient:
        test_client = TestClient(create_app(**{"db_path": db_path, **options}))
        clients.append(test_client.__enter__())
        return test_client

    try:
        yield make
    finally:
        for test_client in clients:
            test_client.__exit__(None, None, None)
