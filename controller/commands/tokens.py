"""Personal and service tokens: made, checked and revoked here; the database keeps a hash.

A token reads ``stk_<token_id>_<secret>``: ``token_id`` (16 hex characters) is public and
finds the token's row by its key; ``secret`` (``secrets.token_urlsafe(32)``: 256 random bits)
is shown once, by ``create``, and only its argon2id hash is kept (``db.api_tokens``). A
personal token acts for its ``owner`` (a person's user name), a service token (no owner) as
``token NAME``; either holds one role, on every stack or on those its selector matches.

``verify`` answers whether a token may be used now. The argon2 check costs about 30 ms, so a
successful one is remembered in this process (keyed by a SHA-256 of the whole token, never
the token) and the next request with the same token skips it; but the row is read again on
every call, so a token revoked or expired is refused at once, by every process, including one
that verified it a moment ago. Creating and revoking are audited (``token.create``,
``token.revoke``) in the transaction that makes the change (``audited``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections import OrderedDict
from contextlib import suppress
from dataclasses import replace
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from controller.commands.audited import audited
from controller.db import Database
from controller.models.access import Role, StackSelector
from controller.models.audit import Actor, ApiToken
from controller.models.errors import TransientError

PREFIX = "stk_"
_TOKEN = re.compile(r"stk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@:-]{0,99}")
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per token

# OWASP's minimum for argon2id (Password Storage Cheat Sheet): 19 MiB, 2 passes, 1 lane. The
# secret is 256 random bits, so no cost makes it guessable or not: the hash is there so that a
# copy of the database gives no working token, and argon2id is what the issue asks for. A
# higher cost would buy nothing against guessing and would make every first request of a
# token slower (about 30 ms on a small machine at this cost). ``check_needs_rehash`` is not
# used: a token is short-lived next to a password, a new one takes new parameters.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32)
# At most this many argon2 checks at once (each holds 19 MiB and a core): a flood of requests
# naming a real token id with wrong secrets waits here instead of taking the machine's memory.
_HASHING = threading.BoundedSemaphore(2)


class _Verified:
    """The hashes this process checked a token against: SHA-256 of the token -> its row's
    hash. Bounded (the least recently used goes); a row whose hash differs is checked again."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._seen: OrderedDict[bytes, str] = OrderedDict()
        self._lock = threading.Lock()

    def knows(self, key: bytes, secret_hash: str) -> bool:
        with self._lock:
            if self._seen.get(key) != secret_hash:
                return False
            self._seen.move_to_end(key)
            return True

    def remember(self, key: bytes, secret_hash: str) -> None:
        with self._lock:
            self._seen[key] = secret_hash
            self._seen.move_to_end(key)
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)

    def forget(self) -> None:
        with self._lock:
            self._seen.clear()


VERIFIED = _Verified()


def create(
    db: Database,
    actor: Actor,
    *,
    name: str,
    role: Role,
    stacks: StackSelector | None,
    expires: timedelta | None,
    owner: str | None,
) -> tuple[str, ApiToken]:
    """A new token, its row and its ``token.create`` audit entry in one transaction; returns
    the token's text (to be shown once: nothing can show it again) and its row.
    ``ConflictError`` when a live token has this name (recorded as refused); ``ValueError``
    for a name or a lifetime that cannot be (a usage error: nothing recorded)."""
    check_name(name)
    if expires is not None and expires <= timedelta(0):
        raise ValueError(f"token {name!r} would have expired already ({expires})")
    token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    now = db.clock()
    row = ApiToken(
        token_id=token_id,
        name=name,
        role=Role(role).value,
        stacks=str(stacks) if stacks is not None else None,
        owner=owner or None,
        created_by=actor.who,
        created_at=now,
        expires_at=now + expires if expires is not None else None,
    )
    secret_hash = HASHER.hash(secret)  # before the transaction: the write lock is not held
    made = audited(
        db,
        actor,
        "token.create",
        lambda: db.api_tokens.add(row, secret_hash=secret_hash),
        detail=described(row),
    )
    return f"{PREFIX}{token_id}_{secret}", made


def check_name(name: str) -> None:
    """A token's name: a letter or digit, then letters, digits and ``. _ @ : -``, at most 100
    (it is shown in lists and in the audit log)."""
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"token name {name!r}: a letter or digit, then letters, digits and . _ @ : -"
            " (at most 100 characters)"
        )


def described(token: ApiToken) -> str:
    """``token ci (operator on team=shop, for alice, expires 2026-12-01T00:00Z)``."""
    parts = [token.role + (f" on {token.stacks}" if token.stacks else "")]
    if token.owner:
        parts.append(f"for {token.owner}")
    if token.expires_at is not None:
        parts.append(f"expires {token.expires_at:%Y-%m-%dT%H:%MZ}")
    return f"token {token.name} ({', '.join(parts)})"


def revoke(db: Database, actor: Actor, name: str) -> ApiToken:
    """Revoke the live token named ``name`` (audited ``token.revoke``); ``NotFoundError`` when
    there is none. Every process refuses it from the next request on (``verify``)."""
    return audited(
        db,
        actor,
        "token.revoke",
        lambda: db.api_tokens.revoke(name, by=actor.who),
        detail=f"token {name}",
    )


def verify(db: Database, text: str) -> ApiToken | None:
    """The token ``text`` names, if it may be used now; ``None`` when it is malformed, unknown,
    revoked, expired, or its secret is wrong. Notes its use (``last_used_at``) at most once a
    minute."""
    found = _TOKEN.fullmatch(text)
    if found is None:
        return None
    token_id, secret = found.groups()
    stored = db.api_tokens.find(token_id)  # every call: a revocation counts at once
    if stored is None:
        return None
    token, secret_hash = stored
    now = db.clock()
    if not token.live(now) or not _matches(text, secret, secret_hash):
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        # The note is for people (`token list`): a busy database does not refuse the token.
        with suppress(TransientError):
            db.api_tokens.touch(token_id, now)
            token = replace(token, last_used_at=now)
    return token


def _matches(text: str, secret: str, secret_hash: str) -> bool:
    key = hashlib.sha256(text.encode()).digest()
    if VERIFIED.knows(key, secret_hash):
        return True
    with _HASHING:
        try:
            HASHER.verify(secret_hash, secret)
        except (VerificationError, InvalidHashError):
            return False
    VERIFIED.remember(key, secret_hash)
    return True
