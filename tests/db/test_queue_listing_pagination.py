"""Listing commands with filters and cursor pagination."""

from __future__ import annotations

import pytest

from controller.db import Database, InvalidCursorError
from controller.models import Command


def fill(db: Database, make_stack) -> list[Command]:
    make_stack("a")
    make_stack("b")
    made = []
    for n in range(7):
        stack = "a" if n % 2 == 0 else "b"
        # The DELETEs first: a DELETE supersedes the older pending commands of its stack.
        kind = "DELETE_STACK" if n < 2 else "RECONCILE"
        made.append(db.commands.enqueue(Command(stack_id=stack, type=kind)))
    return made


def test_pages_walk_every_command_newest_first(db: Database, make_stack):
    made = fill(db, make_stack)
    seen, cursor = [], None
    while True:
        page = db.commands.list(limit=3, cursor=cursor)
        seen += [c.command_id for c in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [c.command_id for c in reversed(made)]


def test_exactly_one_page_has_no_next_cursor(db: Database, make_stack):
    fill(db, make_stack)
    page = db.commands.list(limit=7)
    assert len(page.items) == 7
    assert page.next_cursor is None


def test_empty_listing(db: Database):
    page = db.commands.list()
    assert (page.items, page.next_cursor) == ([], None)


def test_filters_combine(db: Database, make_stack):
    made = fill(db, make_stack)
    db.commands.claim(worker_id="w")
    page = db.commands.list(stack_id="a", status="PENDING", type="RECONCILE")
    expected = [
        c.command_id
        for c in made
        if c.stack_id == "a" and c.type == "RECONCILE" and c.command_id != made[0].command_id
    ]
    assert [c.command_id for c in page.items] == sorted(expected, reverse=True)
    assert db.commands.count_by_status() == {"PENDING": 6, "RUNNING": 1}


@pytest.mark.parametrize("cursor", ["garbage", "", "aWQ6eA"])  # "id:x"
def test_invalid_cursor_is_a_clear_error(db: Database, cursor: str):
    with pytest.raises(InvalidCursorError, match="invalid cursor"):
        db.commands.list(cursor=cursor)


def test_unknown_filter_value_is_refused(db: Database):
    with pytest.raises(ValueError):
        db.commands.list(status="SLEEPING")


def test_newest_by_stack_is_each_stacks_newest_command(db: Database, make_stack):
    made = fill(db, make_stack)
    newest = db.commands.newest_by_stack()
    for stack in ("a", "b"):
        expected = db.commands.list(stack_id=stack, limit=1).items[0]
        assert newest[stack] == (expected.type, expected.status)
    assert newest["a"] == (made[6].type, made[6].status)
    assert set(newest) == {"a", "b"}
