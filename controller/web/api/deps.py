"""What every route needs: the shared database, the token checks, JSON shaping.

One ``Database`` per app, opened on first use and closed when the app stops (``Database`` is
thread-safe; FastAPI runs sync routes in a thread pool). Tokens are compared in constant time.
"""

from __future__ import annotations

import dataclasses
import hmac
import threading
from pathlib import Path
from typing import Annotated, Any

from fastapi import HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel

from controller.db import Database
from controller.web.api.documented import BEARER, TOKEN_ENV

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
    """Write endpoints: 403 when no token is configured, 401 when it is missing or wrong."""
    expected: str | None = request.app.state.token
    if not expected:
        raise HTTPException(
            status_code=403,
            detail=f"write endpoints are disabled: set {TOKEN_ENV} for the controller to enable"
            " them, then send `Authorization: Bearer <token>`",
        )
    _check_bearer(credentials, expected)


def require_reader(request: Request, credentials: Credentials) -> None:
    """Read endpoints: open without a token or with ``open_reads``; else the token, as writes
    (versions hold resolved environment values: whoever may not write may not read them)."""
    expected: str | None = request.app.state.token
    if expected and not request.app.state.open_reads:
        _check_bearer(credentials, expected)


def told_everything(request: Request) -> bool:
    """Whether the probes and ``/metrics`` may name things (repositories, stacks, destinations,
    error texts): without a token configured they always do; with one, only to its bearer
    (otherwise they give counts and states)."""
    expected: str | None = request.app.state.token
    if not expected:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), expected.encode()
    )


def _check_bearer(credentials: HTTPAuthorizationCredentials | None, expected: str) -> None:
    given = credentials.credentials.strip() if credentials is not None else ""
    if not given:
        raise HTTPException(
            status_code=401,
            detail="missing bearer token: send `Authorization: Bearer <token>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            status_code=401,
            detail="invalid bearer token",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )


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
