"""A command's turn at its worker: when its waits give the worker to waiting work.

A wait that can last (a ``depends_on`` condition, the health wait after an apply) must not hold
the only worker while other stacks' commands wait: with ``yield_health_wait`` (the controller's
workers), a ``depends_on`` wait that finds another command due and no worker free raises
``Yielded``; the worker puts the command back in the queue (not a failure) and it goes on
``follow_up_after`` seconds later, re-planned from what runs (level-triggered). When each of its
waits began rides along in the command's payload (``waits``), so a wait's timeout counts from its
first look, across turns: a condition never met ends as it always did ("db did not become
service_healthy within 120s"). A failed attempt starts its waits afresh, as before. The health
wait after an apply gives way its own way (``health_wait``: DONE, and a follow-up looks again).

It reads the queue (``others_wait``) and never writes: the worker records the requeue.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from controller.db import Database
from controller.models import Command, CommandStatus
from controller.models.errors import Yielded

ASK_EVERY = 1.0  # seconds between a turn's looks at the queue (one read each)
WAITS_KEY = "waits"  # in a command's payload: {"failures": n, "since": {wait: ISO time}}


def others_wait(db: Database, command: Command, *, worker_limit: int, same_stack: bool) -> bool:
    """A command is due and cannot start while ``command`` holds its worker: any, when every
    worker is busy; or (``same_stack``) a newer one of its stack, which only runs once this one
    has ended (a requeued command would go first again)."""
    due = db.commands.get_next_pending()
    if due is None:
        return False
    if due.stack_id == command.stack_id:
        return same_stack
    running = db.commands.count_by_status().get(CommandStatus.RUNNING, 0)
    return running >= worker_limit


class Turn:
    """One run of ``command`` on a worker: how long each wait has lasted in this attempt's
    earlier turns, and whether a wait gives way now. Thread-safe (a level's waits run in
    parallel)."""

    def __init__(
        self, db: Database, command: Command, *, give_way: bool, worker_limit: int
    ) -> None:
        self._db = db
        self._command = command
        self._give_way = give_way
        self._worker_limit = worker_limit
        self._lock = threading.Lock()
        self._asked = time.monotonic()  # a turn first waits a second before it asks
        self._since = _since(command)

    def waited(self, wait: str) -> float:
        """Seconds ``wait`` has already lasted (0 at its first look, which is recorded)."""
        now = self._db.clock()
        with self._lock:
            began = self._since.setdefault(wait, now)
        return max(0.0, (now - began).total_seconds())

    def give_way(self, doing: str) -> None:
        """Raise ``Yielded`` when other commands wait for this worker (asked at most once a
        second); ``doing`` says what the wait waits for, for the log."""
        if not self._give_way:
            return
        with self._lock:
            now = time.monotonic()
            if now - self._asked < ASK_EVERY:
                return
            self._asked = now
        if others_wait(self._db, self._command, worker_limit=self._worker_limit, same_stack=False):
            with self._lock:
                since = {wait: began.isoformat() for wait, began in self._since.items()}
            raise Yielded(f"{doing}; other commands wait for a worker", waits=since)


def payload_with(command: Command, waits: dict[str, str]) -> dict[str, Any]:
    """The command's payload carrying ``waits`` for its next turn (of this same attempt)."""
    return {**command.payload, WAITS_KEY: {"failures": command.failures, "since": waits}}


def _since(command: Command) -> dict[str, datetime]:
    """When the waits of this attempt began, from its earlier turns; a failed attempt since
    (``failures`` moved on) starts afresh. Anything unreadable is dropped: a fresh wait."""
    kept = command.payload.get(WAITS_KEY)
    if not isinstance(kept, dict) or kept.get("failures") != command.failures:
        return {}
    found: dict[str, datetime] = {}
    for wait, began in (kept.get("since") or {}).items():
        try:
            found[str(wait)] = datetime.fromisoformat(str(began))
        except ValueError:
            continue
    return found
