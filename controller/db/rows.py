"""Conversions between model values and SQLite columns (timestamps, JSON, cursors)."""

from __future__ import annotations

import base64
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from controller.errors import ConflictError, PermanentError, TransientError
from controller.models.timestamps import as_utc

_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def ts_to_db(value: datetime | None) -> str | None:
    """Fixed-width UTC text, so that string order is time order."""
    return None if value is None else as_utc(value).strftime(_TS_FORMAT)


def ts_from_db(value: str | None) -> datetime | None:
    return None if value is None else datetime.strptime(value, _TS_FORMAT).replace(tzinfo=UTC)


def json_to_db(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def json_from_db(value: str | None) -> Any:
    return None if value is None else json.loads(value)


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing; ``next_cursor`` is ``None`` on the last page."""

    items: list[T]
    next_cursor: str | None


class InvalidCursorError(PermanentError):
    """A pagination cursor that this database did not hand out."""


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = raw.partition(":")
        if prefix != "id" or not number.isdigit():
            raise ValueError(raw)
        return int(number)
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidCursorError(f"invalid cursor {cursor!r}") from e


def translate(error: sqlite3.Error, *, doing: str) -> Exception:
    """A project error for a sqlite3 one, saying what we were doing (the original is chained)."""
    if isinstance(error, sqlite3.IntegrityError):
        return ConflictError(f"{doing}: {error}")
    if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
        return TransientError(f"{doing}: database is busy ({error})")
    return PermanentError(f"{doing}: {error}")
