"""``EventRepository``: the event stream (what the controller did and why), newest first.

Events are only appended; reading pages through them by ``event_id``.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from controller.db.rows import Page, json_from_db, json_to_db, keyset_page, ts_from_db, ts_to_db
from controller.models.event import Event

if TYPE_CHECKING:
    from controller.db.access import DatabaseAccess


class EventRepository:
    def __init__(self, db: DatabaseAccess) -> None:
        self._db = db

    def add(self, event: Event) -> Event:
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO events (stack_id, ts, level, reason, message, data)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    event.stack_id,
                    ts_to_db(event.ts),
                    event.level.value,
                    event.reason,
                    event.message,
                    None if event.data is None else json_to_db(event.data),
                ),
            )
        return event.model_copy(update={"event_id": cursor.lastrowid})

    def list(
        self, *, stack_id: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> Page[Event]:
        """Newest first."""
        with self._db.reading() as conn:
            return keyset_page(
                conn,
                table="events",
                key="event_id",
                filters={"stack_id": stack_id},
                limit=limit,
                cursor=cursor,
                to_item=_event,
            )


def _event(row: sqlite3.Row) -> Event:
    return Event(
        event_id=row["event_id"],
        stack_id=row["stack_id"],
        ts=ts_from_db(row["ts"]),
        level=row["level"],
        reason=row["reason"],
        message=row["message"],
        data=json_from_db(row["data"]),
    )
