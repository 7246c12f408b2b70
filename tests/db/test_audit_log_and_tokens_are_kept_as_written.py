"""The audit log is append-only (an update is refused, only retention deletes) and lists newest
first with its filters; a token's row keeps a hash, a live name is unique, revoking keeps the
row."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from controller.db import Database
from controller.models.audit import ApiToken, AuditEntry, AuditResult, Surface
from controller.models.errors import ConflictError, NotFoundError
from controller.models.timestamps import utc_now


def _entry(who: str, action: str, stack: str | None) -> AuditEntry:
    return AuditEntry(
        who=who,
        who_kind="user",
        surface=Surface.API,
        action=action,
        result=AuditResult.OK,
        stack_id=stack,
        address="127.0.0.1",
    )


def test_entries_list_newest_first_with_filters(db_path: Path):
    with Database(db_path=db_path) as db:
        for who, action, stack in [
            ("alice", "rollback", "shop"),
            ("bob", "sync", "billing"),
            ("root", "token.create", None),
        ]:
            db.audit.record(_entry(who, action, stack))
        assert [e.action for e in db.audit.list().items] == ["token.create", "sync", "rollback"]
        assert [e.who for e in db.audit.list(stack_id="shop").items] == ["alice"]
        assert [e.who for e in db.audit.list(who="bob").items] == ["bob"]
        scoped = db.audit.list(stacks=["shop"], stackless=False).items
        assert [e.stack_id for e in scoped] == ["shop"]
        page = db.audit.list(limit=2)
        assert page.next_cursor and len(db.audit.list(cursor=page.next_cursor).items) == 1


def test_the_log_refuses_updates_and_retention_deletes(db_path: Path):
    with Database(db_path=db_path) as db:
        db.audit.record(_entry("alice", "rollback", "shop"))
    conn = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit_log SET who = 'mallory'")
    conn.close()
    with Database(db_path=db_path) as db:
        assert db.audit.prune(utc_now() - timedelta(days=1)) == 0
        assert db.audit.prune(utc_now() + timedelta(seconds=1)) == 1


def test_an_entry_commits_with_its_transaction_or_not_at_all(db_path: Path):
    with Database(db_path=db_path) as db:
        with pytest.raises(RuntimeError), db.transaction():
            db.audit.record(_entry("alice", "rollback", "shop"))
            raise RuntimeError("the change failed")
        assert db.audit.list().items == []


def _token(name: str) -> ApiToken:
    return ApiToken(
        token_id=f"id{name}xxxxxx",
        name=name,
        role="viewer",
        stacks=None,
        owner=None,
        created_by="admin token",
        created_at=utc_now(),
    )


def test_tokens_keep_a_hash_a_unique_live_name_and_revoked_rows(db_path: Path):
    with Database(db_path=db_path) as db:
        assert not db.api_tokens.any_live()
        db.api_tokens.add(_token("ci"), secret_hash="$argon2id$x")
        assert db.api_tokens.any_live()
        with pytest.raises(ConflictError, match="already named 'ci'"):
            db.api_tokens.add(
                ApiToken(**{**_token("ci").__dict__, "token_id": "other-id-1"}), secret_hash="h"
            )
        revoked = db.api_tokens.revoke("ci", by="root")
        assert revoked.revoked_by == "root" and not revoked.live(utc_now())
        with pytest.raises(NotFoundError):
            db.api_tokens.revoke("ci", by="root")
        assert db.api_tokens.list() == []
        assert [t.name for t in db.api_tokens.list(include_revoked=True)] == ["ci"]
        found = db.api_tokens.find("idcixxxxxx")
        assert found is not None and found[1] == "$argon2id$x"
        db.api_tokens.add(
            ApiToken(**{**_token("ci").__dict__, "token_id": "other-id-2"}), secret_hash="h"
        )  # a revoked name may be taken again
