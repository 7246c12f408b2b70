"""A token's argon2 check is remembered in the process, but its row is read on every call: a
token revoked through another connection to the file (another process, the command line) or
expired is refused at the next call, by a controller that verified it a moment ago too. Its
use is noted at most once a minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from controller.commands import tokens
from controller.db import Database
from controller.models.access import Role
from controller.models.audit import Actor, Surface

ROOT = Actor(who="local:root", who_kind="local", surface=Surface.CLI)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class CountingHasher:
    """``tokens.HASHER`` that counts its checks."""

    def __init__(self) -> None:
        self.checks = 0

    def hash(self, secret: str) -> str:
        return HASHER.hash(secret)

    def verify(self, secret_hash: str, secret: str) -> bool:
        self.checks += 1
        return HASHER.verify(secret_hash, secret)


HASHER = tokens.HASHER


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(tokens, "HASHER", counting)
    monkeypatch.setattr(tokens, "VERIFIED", tokens._Verified())
    return counting


def test_a_token_revoked_by_another_connection_is_refused_at_the_next_call(
    db_path: Path, hasher: CountingHasher
):
    with Database(db_path=db_path) as controller, Database(db_path=db_path) as cli:
        text, _ = tokens.create(
            cli, ROOT, name="ci", role=Role.OPERATOR, stacks=None, expires=None, owner=None
        )
        assert tokens.verify(controller, text) is not None
        assert tokens.verify(controller, text) is not None
        assert hasher.checks == 1  # the second call was remembered
        tokens.revoke(cli, ROOT, "ci")
        assert tokens.verify(controller, text) is None
        assert hasher.checks == 1  # refused by its row, before any hash


def test_an_expired_token_is_refused_though_it_was_verified(db_path: Path, hasher):
    clock = Clock()
    with Database(db_path=db_path, clock=clock) as db:
        text, token = tokens.create(
            db,
            ROOT,
            name="ci",
            role=Role.VIEWER,
            stacks=None,
            expires=timedelta(hours=12),
            owner=None,
        )
        clock.now += timedelta(hours=12) - timedelta(seconds=1)
        assert tokens.verify(db, text) is not None
        clock.now += timedelta(seconds=1)
        assert tokens.verify(db, text) is None
        assert token.expires_at == clock.now


def test_a_new_token_under_a_revoked_ones_name_does_not_reopen_it(db_path: Path, hasher):
    with Database(db_path=db_path) as db:
        old, _ = tokens.create(
            db, ROOT, name="ci", role=Role.ADMIN, stacks=None, expires=None, owner=None
        )
        assert tokens.verify(db, old) is not None
        tokens.revoke(db, ROOT, "ci")
        new, _ = tokens.create(
            db, ROOT, name="ci", role=Role.VIEWER, stacks=None, expires=None, owner=None
        )
        assert tokens.verify(db, old) is None
        verified = tokens.verify(db, new)
        assert verified is not None and verified.role == "viewer"


def test_use_is_noted_at_most_once_a_minute(db_path: Path, hasher):
    clock = Clock()
    with Database(db_path=db_path, clock=clock) as db:
        text, _ = tokens.create(
            db, ROOT, name="ci", role=Role.VIEWER, stacks=None, expires=None, owner=None
        )
        first = clock.now
        tokens.verify(db, text)
        clock.now += timedelta(seconds=59)
        tokens.verify(db, text)
        [listed] = db.api_tokens.list()
        assert listed.last_used_at == first
        clock.now += timedelta(seconds=1)
        tokens.verify(db, text)
        [listed] = db.api_tokens.list()
        assert listed.last_used_at == clock.now
