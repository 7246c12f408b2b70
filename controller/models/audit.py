"""The audit log's entries and the tokens' records: plain values (no pydantic).

An ``AuditEntry`` says who (``who``, ``who_kind``, ``via``: the token a person used), through
which surface (``api``, ``console``, ``cli``, ``webhook``), did what (``action``: ``sync``,
``rollback``, ``token.create``...) to which stack, version and command, from where
(``address``), and how it ended (``result``: ``ok``; ``denied``: the role did not allow it;
``refused``: the state did not, a 404/409; ``failed``: an error). ``detail`` is the message.

An ``ApiToken`` is a token's row without its secret's hash: what ``token list`` shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Surface(StrEnum):
    API = "api"
    CONSOLE = "console"
    CLI = "cli"
    WEBHOOK = "webhook"


class AuditResult(StrEnum):
    OK = "ok"
    DENIED = "denied"
    REFUSED = "refused"
    FAILED = "failed"


@dataclass(frozen=True)
class AuditEntry:
    who: str
    who_kind: str
    surface: Surface
    action: str
    result: AuditResult
    stack_id: str | None = None
    version: str | None = None
    command_id: int | None = None
    address: str | None = None
    via: str | None = None
    detail: str | None = None
    at: datetime | None = None  # set by the database when recorded
    entry_id: int | None = None


@dataclass(frozen=True)
class ApiToken:
    token_id: str
    name: str
    role: str
    stacks: str | None  # a StackSelector's text; None: every stack
    owner: str | None  # the person a personal token acts for; None: a service token
    created_by: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    last_used_at: datetime | None = None

    def live(self, now: datetime) -> bool:
        """Neither revoked nor expired at ``now``."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True)
class Actor:
    """Who makes a change, as an audit entry and a version record them: the principal's name
    and kind, the token a person used (``via``), the surface and the caller's address."""

    who: str
    who_kind: str
    surface: Surface
    via: str | None = None
    address: str | None = None

    def entry(self, action: str, result: AuditResult, **fields: object) -> AuditEntry:
        """The audit entry of ``action`` by this actor (``fields``: stack_id, version,
        command_id, detail)."""
        return AuditEntry(
            who=self.who,
            who_kind=self.who_kind,
            surface=self.surface,
            via=self.via,
            address=self.address,
            action=action,
            result=result,
            **fields,  # type: ignore[arg-type]
        )


def authored(what: str, actor: Actor | None) -> str:
    """A version's ``created_by``: what recorded it and, when a person or token asked, who
    (the audit entry's ``who``): ``stackctl rollback by alice``."""
    return what if actor is None else f"{what} by {actor.who}"
