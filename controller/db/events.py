"""``EventRepository``: the event stream (what the controller did and why), newest first.

Events are only appended; reading pages through them by ``event_id``. The events that are
also notifications (a stack unhealthy, a rollback, an image update, an invalid manifest) get
their outbox message in the same transaction (``controller.db.outbox``).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from controller.db.outbox import OutboxRepository
from controller.db.rows import Page, json_from_db, json_to_db, keyset_page, ts_from_db, ts_to_db
from controller.desired.delivery import EVENT_NOTIFICATIONS, SILENT_RESETS
from controller.models.event import Event

if TYPE_CHECKING:
    from controller.db.access import DatabaseAccess


class EventRepository:
    def __init__(self, db: DatabaseAccess, *, outbox: OutboxRepository) -> None:
        self._db = db
        self._outbox = outbox

    def add(self, event: Event) -> Event:
        """Append ``event``; one that is also a notification (``EVENT_NOTIFICATIONS``) gets
        its outbox message in the same transaction."""
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
            self._notify(event, cursor.lastrowid)
        return event.model_copy(update={"event_id": cursor.lastrowid})

    def _notify(self, event: Event, event_id: int | None) -> None:
        stack = event.stack_id or ""
        if event.reason in SILENT_RESETS:
            self._outbox.remember(stack, SILENT_RESETS[event.reason], event.reason)
            return
        if event.reason not in EVENT_NOTIFICATIONS:
            return
        kind, topic = EVENT_NOTIFICATIONS[event.reason]
        self._outbox.add(
            kind,
            key=f"event:{event_id}",
            stack_id=event.stack_id,
            payload={
                "message": event.message,
                "level": event.level.value,
                "reason": event.reason,
                "data": event.data,
            },
            topic=topic,
            fingerprint=f"{event.reason}:{event.message}" if topic else None,
        )

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
