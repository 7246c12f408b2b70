"""Fixtures for the persistence tests: ``db`` on tests/conftest.py's ``db_path``, with a clock
tests can move."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from controller.db import Database
from controller.models import Stack


class FakeClock:
    """A clock that moves only when told to, one microsecond per reading so order is strict."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(microseconds=1)
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db(db_path: Path, clock: FakeClock) -> Iterator[Database]:
    with Database(db_path=db_path, clock=clock) as database:
        yield database


@pytest.fixture
def make_stack(db: Database):
    def make(stack_id: str = "shop") -> Stack:
        return db.stacks.create(Stack(stack_id=stack_id, name=stack_id))

    return make
