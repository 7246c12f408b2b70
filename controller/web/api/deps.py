"""What every route needs: the shared database, the caller's checks (``identity``), JSON shaping.

One ``Database`` per app, opened on first use and closed when the app stops (``Database`` is
thread-safe; FastAPI runs sync routes in a thread pool). Tokens are compared in constant time.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Annotated, Any

from fastapi import HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel

from controller.db import Database
from controller.models.access import Action, PrincipalKind
from controller.models.errors import StackctlError
from controller.web.api import identity
from controller.web.api.documented import BEARER

# The bearer credentials as the document declares them (``None``: absent or not "Bearer").
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]


class DatabaseHolder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: Database | None = None
        self._lock = threading.Lock()

    def get(self) -> Database:
        with self._lock:
            if self._db is None:
                self._db = Database(db_path=self.path)
            return self._db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def database(request: Request) -> Database:
    holder: DatabaseHolder = request.app.state.database
    return holder.get()


def require_token(request: Request, credentials: Credentials) -> None:
    """Write routes, before anything else: nobody is answered 401 (authentication on) or 403
    (writes off), so that a caller without credentials learns nothing about which stacks
    exist; the route then checks the caller's grants on what it touches (``identity.require``).
    ``credentials`` declares the bearer scheme in the OpenAPI document."""
    who = identity.principal(request)
    if who.kind is PrincipalKind.ANONYMOUS:
        raise identity.refusal(request, who, Action.SYNC, None)


def require_reader(request: Request, credentials: Credentials) -> None:
    """Read routes: the caller may read some stack (open while authentication is off, or with
    ``open_reads``); a listing then shows what the caller's grants reach
    (``identity.visible``) and a stack's route checks that stack."""
    who = identity.principal(request)
    if not who.may_somewhere(Action.READ):
        raise identity.refusal(request, who, Action.READ, None)


def told_everything(request: Request) -> bool:
    """Whether the probes and ``/metrics`` may name things (repositories, stacks, destinations,
    error texts): to whoever reads every stack (everyone while authentication is off);
    otherwise they give counts and states."""
    try:
        return identity.principal(request).may(Action.READ)
    except HTTPException:  # a bad bearer on an open probe: counts only
        return False
    except StackctlError:  # the database fails (the probe says so): tokens cannot be read
        return not (request.app.state.token or request.app.state.oidc_digest)


def plain(value: Any) -> Any:
    """Models, dataclasses and containers of them as JSON-able values."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def page(items: list[Any], next_cursor: str | None) -> dict[str, Any]:
    """The shape of every list: ``{"items": [...], "next_cursor": "..." | null}``."""
    return {"items": plain(items), "next_cursor": next_cursor}
