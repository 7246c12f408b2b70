"""Conversions between model values and SQLite columns (timestamps, JSON, cursors)."""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from controller.models.errors import ConflictError, PermanentError, TransientError
from controller.models.timestamps import as_utc

_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

# SQLite stores integers as signed 64-bit: a larger id cannot exist (and cannot be bound).
MAX_ID = 2**63 - 1


def storable_id(value: int) -> bool:
    """Whether ``value`` can be an id in this database (binding a larger one overflows)."""
    return -MAX_ID - 1 <= value <= MAX_ID


def ts_to_db(value: datetime | None) -> str | None:
    """Fixed-width UTC text, so that string order is time order.

    ``isoformat`` writes the same text as ``strftime(_TS_FORMAT)`` at a third of the cost (the
    queue formats two or three timestamps a command): UTC's ``+00:00`` becomes ``Z``."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = as_utc(value)
    return value.isoformat(timespec="microseconds")[:26] + "Z"


def ts_from_db(value: str | None) -> datetime | None:
    """The stored text back as an aware UTC datetime.

    ``fromisoformat`` reads our fixed-width ``...SS.ffffffZ`` form (Python 3.11+) about ten
    times faster than ``strptime``, which took 42 % of a queue cycle's CPU; text it does not
    read (none that stackctl writes) gets ``strptime``'s verdict, as before."""
    if value is None:
        return None
    if value.endswith("Z"):  # ours: read naive and stamped UTC (``Z`` parses as a fresh
        try:  # timezone object, which would cost an ``astimezone`` per timestamp)
            return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
        except ValueError:
            pass
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return datetime.strptime(value, _TS_FORMAT).replace(tzinfo=UTC)
    return parsed if parsed.tzinfo is UTC else as_utc(parsed)


def json_to_db(value: Any) -> str:
    if value == {}:
        return "{}"  # most payloads: no encoder needed (json.dumps costs microseconds)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def json_from_db(value: str | None) -> Any:
    if value == "{}":
        return {}  # most payloads: no parser needed
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
        if prefix != "id" or not (number.isascii() and number.isdigit()):
            raise ValueError(raw)
        value = int(number)
        if value > MAX_ID:
            raise ValueError(raw)
        return value
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidCursorError(f"invalid cursor {cursor!r}") from e


def encode_name_cursor(last_name: str) -> str:
    """The cursor of a listing by name (stacks): the last name handed out."""
    return base64.urlsafe_b64encode(f"name:{last_name}".encode()).decode().rstrip("=")


def decode_name_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidCursorError(f"invalid cursor {cursor!r}") from e
    prefix, _, name = raw.partition(":")
    if prefix != "name" or not name:
        raise InvalidCursorError(f"invalid cursor {cursor!r}")
    return name


def keyset_page(
    conn: sqlite3.Connection,
    *,
    table: str,
    key: str,
    filters: dict[str, Any],
    limit: int,
    cursor: str | None,
    to_item: Callable[[sqlite3.Row], T],
) -> Page[T]:
    """Newest first by ``key``; ``filters`` maps columns to values (``None``: no filter). The
    cursor is the last key handed out, so pages stay stable while rows are added."""
    clauses = [f"{column} = ?" for column, value in filters.items() if value is not None]
    params: list[Any] = [value for value in filters.values() if value is not None]
    if cursor is not None:
        clauses.append(f"{key} < ?")
        params.append(decode_cursor(cursor))
    where = " AND ".join(clauses) or "1 = 1"
    rows = conn.execute(
        f"SELECT * FROM {table} WHERE {where} ORDER BY {key} DESC LIMIT ?", (*params, limit + 1)
    ).fetchall()
    items = [to_item(row) for row in rows[:limit]]
    more = len(rows) > limit and bool(items)
    return Page(items, encode_cursor(rows[limit - 1][key]) if more else None)


def translate(error: sqlite3.Error, *, doing: str) -> Exception:
    """A project error for a sqlite3 one, saying what we were doing (the original is chained)."""
    if isinstance(error, sqlite3.IntegrityError):
        return ConflictError(f"{doing}: {error}")
    if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
        return TransientError(f"{doing}: database is busy ({error})")
    return PermanentError(f"{doing}: {error}")
