"""Make ``stacks.py`` and ``harness.py`` importable by the tests of this folder, and give them
``h``: a harness (database, real engine, worker) on the test's folder, closed afterwards."""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from harness import Harness, make_harness


@pytest.fixture
def h(tmp_path: Path, engine_janitor) -> Iterator[Harness]:
    harness = make_harness(tmp_path)
    yield harness
    harness.db.close()
