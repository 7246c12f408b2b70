"""``audited``: run a change and record who made it, in the same transaction.

Every change a person, a token, the command line or a webhook asks for goes through here: the
change and its audit entry commit together or not at all (``Database.transaction`` nests by
joining). A change refused by the state of things (``NotFoundError``, ``ConflictError``: 404,
409) or failing with another project error is recorded too, in a transaction of its own, and
the error goes on to the caller. A change refused by the caller's role is recorded by
``denied``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import TypeVar

from controller.db import Database
from controller.models import Command
from controller.models.audit import Actor, AuditResult
from controller.models.errors import ConflictError, NotFoundError, StackctlError

T = TypeVar("T")


def audited(
    db: Database,
    actor: Actor,
    action: str,
    run: Callable[[], T],
    *,
    stack_id: str | None = None,
    version: str | Callable[[], str | None] | None = None,
    detail: str | None = None,
) -> T:
    """``run()`` and its audit entry in one transaction. A ``Command`` result names its id and
    version in the entry; other results name ``version`` as given (a function: asked once
    ``run`` has run, for a change that learns its version as it goes, ``apply``). ``detail``:
    what the entry says of a change that is no stack's (``token ci``); an error's message
    wins."""
    try:
        with db.transaction():
            result = run()
            command_id, shown = _facts(result, _given(version))
            stack = stack_id or (result.stack_id if isinstance(result, Command) else None)
            db.audit.record(
                actor.entry(
                    action,
                    AuditResult.OK,
                    stack_id=stack,
                    version=shown,
                    command_id=command_id,
                    detail=detail,
                )
            )
            return result
    except (NotFoundError, ConflictError) as e:
        _record_error(db, actor, action, AuditResult.REFUSED, e, stack_id, _given(version))
        raise
    except StackctlError as e:
        _record_error(db, actor, action, AuditResult.FAILED, e, stack_id, _given(version))
        raise


def denied(
    db: Database, actor: Actor, action: str, reason: str, *, stack_id: str | None = None
) -> None:
    """Record that ``actor``'s role did not allow ``action`` (the caller answers 403)."""
    db.audit.record(actor.entry(action, AuditResult.DENIED, stack_id=stack_id, detail=reason))


def _given(version: str | Callable[[], str | None] | None) -> str | None:
    return version() if callable(version) else version


def _facts(result: object, version: str | None) -> tuple[int | None, str | None]:
    if isinstance(result, Command):
        payload = result.payload or {}
        shown = payload.get("version") if isinstance(payload.get("version"), str) else None
        return result.command_id, shown or version
    return None, version


def _record_error(
    db: Database,
    actor: Actor,
    action: str,
    result: AuditResult,
    error: StackctlError,
    stack_id: str | None,
    version: str | None,
) -> None:
    # The database failing too: the caller's error says more than this one.
    with suppress(StackctlError):
        db.audit.record(
            actor.entry(action, result, stack_id=stack_id, version=version, detail=str(error))
        )
