"""``db.console_sessions``: a session is valid until its lifetime is over or it is closed, and
only for the token digest it was opened with; opening one drops the expired rows."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from controller.db import Database

A, B = "a" * 64, "b" * 64


def rows(db_path: Path) -> list[str]:
    with sqlite3.connect(db_path) as conn:
        return [r[0] for r in conn.execute("SELECT session_hash FROM console_sessions")]


def test_valid_until_its_lifetime_is_over(db: Database, clock) -> None:
    db.console_sessions.open(session_hash=A, token_digest="t1", lifetime=timedelta(hours=12))
    assert db.console_sessions.valid(session_hash=A, token_digest="t1")
    assert not db.console_sessions.valid(session_hash=A, token_digest="t2")  # another token
    assert not db.console_sessions.valid(session_hash=B, token_digest="t1")
    clock.advance(12 * 3600 - 1)
    assert db.console_sessions.valid(session_hash=A, token_digest="t1")
    clock.advance(1)
    assert not db.console_sessions.valid(session_hash=A, token_digest="t1")


def test_closing_ends_it_and_opening_drops_the_expired(
    db: Database, db_path: Path, clock
) -> None:
    db.console_sessions.open(session_hash=A, token_digest="t", lifetime=timedelta(hours=1))
    db.console_sessions.close(A)
    assert not db.console_sessions.valid(session_hash=A, token_digest="t")
    db.console_sessions.open(session_hash=A, token_digest="t", lifetime=timedelta(hours=1))
    clock.advance(3600)
    db.console_sessions.open(session_hash=B, token_digest="t", lifetime=timedelta(hours=1))
    assert rows(db_path) == [B]
