"""Give the tests of this folder ``h``: a harness (database, real engine, worker) on the test's
folder, closed afterwards."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.harness import Harness, make_harness


@pytest.fixture
def h(tmp_path: Path, engine_janitor) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    yield harness
    harness.db.close()
