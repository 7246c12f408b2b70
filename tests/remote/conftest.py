"""Fixtures of the remote command line's tests: ``serve(**options)`` starts the API of the
test's database (``db_path``, ``db``, ``seeded`` come from tests/conftest.py) on a free
127.0.0.1 port and stops it at the end; ``cli`` runs ``stackctl`` as a process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.remote import ADMIN_TOKEN, Cli

from controller.db import Database
from controller.web.api import create_app, start_server


@pytest.fixture
def serve(db_path: Path, db: Database) -> Iterator[Callable[..., str]]:
    """``serve(token=..., **create_app options)`` -> the server's URL (the admin token by
    default; ``token=None``: a controller without authentication)."""
    servers: list[Any] = []

    def start(**options: Any) -> str:
        options.setdefault("token", ADMIN_TOKEN)
        server = start_server(create_app(db_path=db_path, **options), host="127.0.0.1", port=0)
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    return Cli(home=home)
