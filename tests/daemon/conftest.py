"""Give the tests of this folder ``root`` (an empty watched folder) and ``db`` (a database file,
closed afterwards)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.db import Database


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "manifests"
    path.mkdir()
    return path


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database(db_path=tmp_path / "s.db") as database:
        yield database
