"""``commands/tokens.py``: a token is ``stk_<16 hex>_<secret>``, shown once; the database keeps
an argon2id hash of its secret (OWASP's minimum parameters) and never the token; creating and
revoking it are audited in their transaction; a malformed, unknown or wrong token is refused."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from controller.commands import tokens
from controller.db import Database
from controller.models.access import Role, StackSelector
from controller.models.audit import Actor, AuditResult, Surface
from controller.models.errors import ConflictError, NotFoundError

ROOT = Actor(who="local:root", who_kind="local", surface=Surface.CLI)


def test_the_token_is_printed_once_and_only_its_hash_is_kept(db_path: Path):
    with Database(db_path=db_path) as db:
        text, token = tokens.create(
            db,
            ROOT,
            name="ci",
            role=Role.OPERATOR,
            stacks=StackSelector.parse("team=shop"),
            expires=timedelta(days=30),
            owner="alice",
        )
        assert re.fullmatch(r"stk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", text)
        assert text.split("_")[1] == token.token_id
        stored = db.api_tokens.find(token.token_id)
        assert stored is not None
        row, secret_hash = stored
        assert secret_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert (row.role, row.stacks, row.owner, row.created_by) == (
            "operator",
            "team=shop",
            "alice",
            "local:root",
        )
        assert row.expires_at == row.created_at + timedelta(days=30)
        [entry] = db.audit.list().items
        assert (entry.who, entry.action, entry.result) == ("local:root", "token.create", "ok")
        assert entry.detail is not None and entry.detail.startswith(
            "token ci (operator on team=shop, for alice, expires "
        )
        verified = tokens.verify(db, text)
        assert verified is not None and verified.last_used_at is not None
        assert replace(verified, last_used_at=None) == row
    secret = text[len("stk_") + 17 :]  # the secret may hold "_" itself
    wal = Path(f"{db_path}-wal")
    content = db_path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert text.encode() not in content and secret.encode() not in content


@pytest.mark.parametrize(
    "given",
    [
        "",
        "stk_",
        "Bearer stk_0123456789abcdef_" + "a" * 43,
        "stk_0123456789ABCDEF_" + "a" * 43,  # the id is lower-case hex
        "stk_0123456789abcdef_" + "a" * 42,
        "stk_0123456789abcdef_" + "a" * 43,  # well formed, unknown
    ],
    ids=["empty", "prefix only", "with its scheme", "upper-case id", "short secret", "unknown"],
)
def test_a_malformed_or_unknown_token_is_refused(db: Database, given: str):
    assert tokens.verify(db, given) is None


def test_a_wrong_secret_is_refused(db: Database):
    text, _ = tokens.create(
        db, ROOT, name="ci", role=Role.VIEWER, stacks=None, expires=None, owner=None
    )
    prefix, secret = text[: len("stk_") + 17], text[len("stk_") + 17 :]
    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert tokens.verify(db, prefix + wrong) is None
    assert tokens.verify(db, text) is not None


def test_a_live_name_is_refused_and_recorded_as_refused(db: Database):
    tokens.create(db, ROOT, name="ci", role=Role.VIEWER, stacks=None, expires=None, owner=None)
    with pytest.raises(ConflictError, match="already named 'ci'"):
        tokens.create(db, ROOT, name="ci", role=Role.ADMIN, stacks=None, expires=None, owner=None)
    refused, made = db.audit.list().items
    assert (refused.action, refused.result) == ("token.create", AuditResult.REFUSED)
    assert made.result is AuditResult.OK
    assert [t.role for t in db.api_tokens.list()] == ["viewer"]


@pytest.mark.parametrize("name", ["", "-ci", "ci deploy", "x" * 101, "ci/deploy"])
def test_an_unusable_name_is_a_value_error_before_anything_is_recorded(db: Database, name):
    with pytest.raises(ValueError, match="token name"):
        tokens.create(db, ROOT, name=name, role=Role.VIEWER, stacks=None, expires=None, owner=None)
    assert db.audit.list().items == [] and db.api_tokens.list(include_revoked=True) == []


def test_revoking_is_audited_and_an_unknown_name_is_recorded_as_refused(db: Database):
    text, _ = tokens.create(
        db, ROOT, name="ci", role=Role.VIEWER, stacks=None, expires=None, owner=None
    )
    revoked = tokens.revoke(db, ROOT, "ci")
    assert revoked.revoked_by == "local:root"
    assert tokens.verify(db, text) is None
    with pytest.raises(NotFoundError):
        tokens.revoke(db, ROOT, "ci")
    entries = db.audit.list().items
    assert [(e.action, e.result, e.detail) for e in entries[1:]] == [
        ("token.revoke", AuditResult.OK, "token ci"),
        ("token.create", AuditResult.OK, "token ci (viewer)"),
    ]
    assert entries[0].result is AuditResult.REFUSED and "no live token" in (entries[0].detail or "")
