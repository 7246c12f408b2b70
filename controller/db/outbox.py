"""``OutboxRepository``: notifications written with the state change that caused them.

A message (``outbox``) is added inside the caller's transaction (``add`` joins it), so it
exists exactly when the change it tells about was committed: a kill before the commit loses
both, a kill after keeps both. Its ``key`` is its idempotency key: the same transition
recorded again (a command retried after a kill) is one message. ``topic``/``fingerprint``
coalesce repeats: a message whose fingerprint equals the last one said for the stack and topic
(``notify_state``) is not added, so a failure met by every resync is said once, and said again
only after something else was said on that topic.

The sender then *routes* each message once (``route``: one ``deliveries`` row per destination
wanted then, and the message marked routed, in one transaction) and sends the deliveries with
retries (``due``, ``sent``, ``retry``, ``give_up``, ``drop``). A delivery names its destination
by fingerprint and a label without credentials, never by URL.

This module never sends anything and never decides who wants a message.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from controller.db.rows import json_from_db, json_to_db, ts_from_db, ts_to_db

if TYPE_CHECKING:
    from controller.db.access import DatabaseAccess


@dataclass(frozen=True)
class Message:
    message_id: int
    key: str
    kind: str
    stack_id: str | None
    created_at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True)
class Delivery:
    delivery_id: int
    destination: str
    label: str
    attempts: int
    message: Message


@dataclass(frozen=True)
class Route:
    """One destination a message goes to: its fingerprint and a label safe to show."""

    destination: str
    label: str


class OutboxRepository:
    def __init__(self, db: DatabaseAccess) -> None:
        self._db = db

    def add(
        self,
        kind: str,
        *,
        key: str,
        stack_id: str | None,
        payload: dict[str, Any],
        topic: str | None = None,
        fingerprint: str | None = None,
    ) -> bool:
        """Add a message in the current transaction (or its own); ``False`` when it was
        already there (same ``key``) or coalesced (same ``fingerprint`` as the last message on
        ``topic`` for the stack)."""
        with self._db.transaction() as conn:
            coalesce = topic is not None and fingerprint is not None
            if coalesce and not _remember(conn, stack_id or "", topic, fingerprint):  # type: ignore[arg-type]
                return False
            cursor = conn.execute(
                "INSERT OR IGNORE INTO outbox (key, kind, stack_id, created_at, payload)"
                " VALUES (?, ?, ?, ?, ?)",
                (key, kind, stack_id, ts_to_db(self._db.clock()), json_to_db(payload)),
            )
            return cursor.rowcount == 1

    def remember(self, stack_id: str, topic: str, fingerprint: str) -> None:
        """Note what the stack is now on ``topic`` without saying it (a success after which a
        failure must be said again)."""
        with self._db.transaction() as conn:
            _remember(conn, stack_id, topic, fingerprint)

    def unrouted(self, *, limit: int = 100) -> list[Message]:
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT * FROM outbox WHERE routed_at IS NULL ORDER BY message_id LIMIT ?",
                (limit,),
            ).fetchall()
        return [_message(row) for row in rows]

    def route(self, message_id: int, routes: list[Route]) -> None:
        """The message's deliveries, due now, and the message marked routed: once."""
        self.route_many([(message_id, routes)])

    def route_many(self, routed: Sequence[tuple[int, list[Route]]]) -> None:
        """``route`` of each ``(message_id, routes)``, in one transaction (one commit for the
        10,000 versions of a large drop, not one each, holding the write lock meanwhile)."""
        now = ts_to_db(self._db.clock())
        with self._db.transaction() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO deliveries (message_id, destination, label, next_at)"
                " VALUES (?, ?, ?, ?)",
                [(m, r.destination, r.label, now) for m, routes in routed for r in routes],
            )
            conn.executemany(
                "UPDATE outbox SET routed_at = ? WHERE message_id = ? AND routed_at IS NULL",
                [(now, m) for m, _ in routed],
            )

    def due(self, *, limit: int = 50, busy: Collection[str] = ()) -> list[Delivery]:
        """The oldest due delivery of each destination that is not ``busy`` (being sent to
        right now): one destination that hangs, with its backlog, never hides the others."""
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT d.delivery_id, d.destination, d.label, d.attempts, o.*"
                " FROM deliveries d JOIN outbox o USING (message_id)"
                " WHERE d.delivery_id IN (SELECT MIN(delivery_id) FROM deliveries"
                "  WHERE status = 'PENDING' AND next_at <= ?"
                "  AND destination NOT IN (SELECT value FROM json_each(?))"
                "  GROUP BY destination)"
                " ORDER BY d.delivery_id LIMIT ?",
                (ts_to_db(self._db.clock()), json.dumps(sorted(busy)), limit),
            ).fetchall()
        return [
            Delivery(
                delivery_id=row["delivery_id"],
                destination=row["destination"],
                label=row["label"],
                attempts=row["attempts"],
                message=_message(row),
            )
            for row in rows
        ]

    def next_due_at(self) -> datetime | None:
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT MIN(next_at) FROM deliveries WHERE status = 'PENDING'"
            ).fetchone()
        return ts_from_db(row[0])

    def sent(self, delivery_id: int) -> None:
        self._finish(delivery_id, "SENT", error=None)

    def give_up(self, delivery_id: int, *, error: str) -> None:
        self._finish(delivery_id, "FAILED", error=error)

    def drop(self, delivery_id: int, *, reason: str) -> None:
        """Not sent on purpose (its destination is no longer configured)."""
        self._finish(delivery_id, "DROPPED", error=reason)

    def retry(self, delivery_id: int, *, error: str, at: datetime) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_error = ?, next_at = ?"
                " WHERE delivery_id = ? AND status = 'PENDING'",
                (error, ts_to_db(at), delivery_id),
            )

    def _finish(self, delivery_id: int, status: str, *, error: str | None) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE deliveries SET status = ?, attempts = attempts + 1, last_error = ?,"
                " sent_at = ? WHERE delivery_id = ? AND status = 'PENDING'",
                (status, error, ts_to_db(self._db.clock()), delivery_id),
            )

    def counts(self) -> dict[tuple[str, str], int]:
        """Deliveries by (label, status), for the metrics and ``describe``."""
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT label, status, COUNT(*) FROM deliveries GROUP BY label, status"
            ).fetchall()
        return {(row[0], row[1]): row[2] for row in rows}

    def messages(self, *, stack_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The newest messages with their deliveries' states (newest first), for people."""
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT o.*, (SELECT json_group_array(json_object('label', d.label,"
                " 'status', d.status, 'attempts', d.attempts, 'error', d.last_error))"
                " FROM deliveries d WHERE d.message_id = o.message_id) AS sent_to"
                " FROM outbox o WHERE (?1 IS NULL OR o.stack_id = ?1)"
                " ORDER BY o.message_id DESC LIMIT ?2",
                (stack_id, limit),
            ).fetchall()
        return [
            {
                "message_id": row["message_id"],
                "key": row["key"],
                "kind": row["kind"],
                "stack_id": row["stack_id"],
                "created_at": row["created_at"],
                "message": json_from_db(row["payload"]).get("message"),
                "deliveries": json_from_db(row["sent_to"]),
            }
            for row in rows
        ]


def _remember(conn: sqlite3.Connection, stack_id: str, topic: str, fingerprint: str) -> bool:
    """Record ``fingerprint`` as the last on ``topic``; ``False`` when it already was."""
    cursor = conn.execute(
        "INSERT INTO notify_state (stack_id, topic, fingerprint) VALUES (?, ?, ?)"
        " ON CONFLICT (stack_id, topic) DO UPDATE SET fingerprint = excluded.fingerprint"
        " WHERE notify_state.fingerprint IS NOT excluded.fingerprint",
        (stack_id, topic, fingerprint),
    )
    return cursor.rowcount == 1


def _message(row: sqlite3.Row) -> Message:
    created = ts_from_db(row["created_at"])
    assert created is not None
    return Message(
        message_id=row["message_id"],
        key=row["key"],
        kind=row["kind"],
        stack_id=row["stack_id"],
        created_at=created,
        payload=json_from_db(row["payload"]),
    )
