"""Who may do what to which stack: roles, actions, stack selectors, grants and principals.

Three roles, each including the one below it:

- ``viewer`` reads (stacks, versions, commands and their logs, events, the audit of its stacks);
- ``operator`` also acts on running stacks: sync, suspend, resume, rollback, approve, cancel,
  move, and asks a repository to be fetched now;
- ``admin`` also changes what is declared and who may act: apply and delete stacks, tokens,
  the whole audit log, settings.

A ``Grant`` is a role over some stacks: every stack, or those a ``StackSelector`` matches (by
name pattern and/or labels, Argo CD's projects simply). A ``Principal`` is whoever sends a
request (a signed-in person, a token, the bootstrap admin token, a webhook, the local command
line, nobody) with the grants they hold; ``Principal.may`` answers for one stack, and a
principal without a grant may do nothing (deny by default).

Plain dataclasses, no pydantic: the command line's client path (``stackctl --server``) parses
selectors without loading the models.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def includes(self, other: Role) -> bool:
        """Whether this role may do what ``other`` may (admin includes operator and viewer)."""
        return self.rank >= other.rank


_RANKS = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


class Action(StrEnum):
    """What a request does; ``NEEDS`` says the least role that may do it."""

    READ = "read"
    SYNC = "sync"
    SUSPEND = "suspend"
    RESUME = "resume"
    ROLLBACK = "rollback"
    APPROVE = "approve"
    CANCEL = "cancel"
    MOVE = "move"
    FETCH = "fetch"  # a repository fetched now
    APPLY = "apply"
    DELETE = "delete"
    TOKENS = "tokens"
    AUDIT_ALL = "audit-all"  # the audit entries of no stack (tokens, sign-ins)
    SETTINGS = "settings"


NEEDS: dict[Action, Role] = {
    Action.READ: Role.VIEWER,
    Action.SYNC: Role.OPERATOR,
    Action.SUSPEND: Role.OPERATOR,
    Action.RESUME: Role.OPERATOR,
    Action.ROLLBACK: Role.OPERATOR,
    Action.APPROVE: Role.OPERATOR,
    Action.CANCEL: Role.OPERATOR,
    Action.MOVE: Role.OPERATOR,
    Action.FETCH: Role.OPERATOR,
    Action.APPLY: Role.ADMIN,
    Action.DELETE: Role.ADMIN,
    Action.TOKENS: Role.ADMIN,
    Action.AUDIT_ALL: Role.ADMIN,
    Action.SETTINGS: Role.ADMIN,
}


class SelectorError(ValueError):
    """A stack selector that cannot be read; the message says what is wrong."""


@dataclass(frozen=True)
class StackSelector:
    """Stacks by name pattern (shell-style, ``shop*``; any of them) and by labels (every one).

    Both given: a stack must match a pattern *and* carry the labels. Neither: no stack (a
    selector is always written to limit; "every stack" is a grant without a selector).
    """

    names: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()

    def matches(self, name: str, labels: Mapping[str, str]) -> bool:
        if not self.names and not self.labels:
            return False
        if self.names and not any(fnmatch.fnmatchcase(name, p) for p in self.names):
            return False
        return all(labels.get(key) == value for key, value in self.labels)

    @classmethod
    def parse(cls, text: str) -> StackSelector:
        """``team=shop,tier=web`` (labels), ``shop*,billing`` (name patterns), or both mixed:
        comma-separated, an item with ``=`` is a label. ``SelectorError`` when empty or when an
        item is blank or has an empty key."""
        names: list[str] = []
        labels: list[tuple[str, str]] = []
        for item in (part.strip() for part in text.split(",")):
            if not item:
                raise SelectorError(f"stack selector {text!r} has an empty item")
            if "=" in item:
                key, _, value = item.partition("=")
                if not key.strip():
                    raise SelectorError(f"stack selector {text!r}: label {item!r} has no key")
                labels.append((key.strip(), value.strip()))
            else:
                names.append(item)
        return cls(names=tuple(names), labels=tuple(labels))

    def __str__(self) -> str:
        return ",".join([*self.names, *(f"{k}={v}" for k, v in self.labels)])


@dataclass(frozen=True)
class Grant:
    """``role`` over the stacks ``stacks`` selects (``None``: every stack)."""

    role: Role
    stacks: StackSelector | None = None

    def covers(self, stack: str | None, labels: Mapping[str, str]) -> bool:
        """Whether the grant reaches ``stack`` (``None``: something of no stack, which only a
        grant over every stack reaches)."""
        if self.stacks is None:
            return True
        return stack is not None and self.stacks.matches(stack, labels)

    def __str__(self) -> str:
        return f"{self.role}" + (f" on {self.stacks}" if self.stacks is not None else "")


class PrincipalKind(StrEnum):
    USER = "user"  # signed in through OpenID Connect
    TOKEN = "token"  # a personal or service token
    ADMIN_TOKEN = "admin-token"  # STACKCTL_API_TOKEN, the bootstrap admin
    WEBHOOK = "webhook"  # a forge's signed push
    LOCAL = "local"  # the command line on the controller's machine, with the database file
    ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Principal:
    """Who a request comes from and what they hold.

    ``name``: the identity recorded in the audit log and on versions (a person's user name, a
    token's owner or ``token NAME``, ``admin token``, ``webhook from github``, ``local:USER``,
    ``anonymous``); ``via``: the token a person used, if any; ``groups``: a person's groups.
    """

    name: str
    kind: PrincipalKind
    grants: tuple[Grant, ...] = ()
    via: str | None = None
    groups: tuple[str, ...] = field(default=())

    def may(
        self, action: Action, stack: str | None = None, labels: Mapping[str, str] | None = None
    ) -> bool:
        """Whether a grant of a role that includes ``NEEDS[action]`` reaches ``stack``."""
        needed = NEEDS[action]
        shown = labels or {}
        return any(g.role.includes(needed) and g.covers(stack, shown) for g in self.grants)

    def may_somewhere(self, action: Action) -> bool:
        """Whether some stack (or all) allows ``action``: the buttons a page shows at all."""
        return any(g.role.includes(NEEDS[action]) for g in self.grants)

    @property
    def bound(self) -> bool:
        """Whether the principal holds any grant (a person with none sees nothing)."""
        return bool(self.grants)

    @property
    def shown(self) -> str:
        """The name as people read it: ``alice (token ci)``; a service token's ``token ci``."""
        if self.via and self.name != f"token {self.via}":
            return f"{self.name} (token {self.via})"
        return self.name


ADMIN_EVERYWHERE = (Grant(Role.ADMIN),)
READ_EVERYWHERE = (Grant(Role.VIEWER),)


@dataclass(frozen=True)
class Binding:
    """People (by user name or group) holding ``role`` on ``stacks`` (``None``: every stack)."""

    role: Role
    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    stacks: StackSelector | None = None

    def binds(self, user: str, groups: tuple[str, ...]) -> bool:
        return user in self.users or any(g in self.groups for g in groups)


@dataclass(frozen=True)
class AccessPolicy:
    """The bindings of ``kind: AccessPolicy`` (the operator's file): a person holds the grant of
    every binding naming them or one of their groups, and nothing else."""

    bindings: tuple[Binding, ...] = ()

    def grants_for(self, user: str, groups: tuple[str, ...]) -> tuple[Grant, ...]:
        return tuple(Grant(b.role, b.stacks) for b in self.bindings if b.binds(user, groups))
