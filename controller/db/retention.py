"""``RetentionRepository``: keeps the database bounded by deleting old finished commands and events.

What goes (``compact``), by a ``RetentionPolicy``:
- a FINISHED command (DONE, FAILED, SUPERSEDED, CANCELLED) that ended (or, never started, was
  created) more than ``keep_days`` ago *and* is not among the ``keep_commands`` newest finished
  commands of its stack, with its log lines;
- an event older than ``event_days``;
- an audit log entry older than ``audit_days`` (365 by default: kept longer than the rest; no
  other code deletes one, and the API has no route that does).
What never goes: a PENDING or RUNNING command however old, a stack, a version (they are the
history), a blob. Nothing else refers to a command (only ``command_logs``, deleted first).

The write lock is held briefly: each transaction deletes at most ``batch`` commands (with their
logs) or events, found beforehand by short reads on indexes, and the loop then waits as long as
the transaction took, so that other writers (workers, the watcher, a CLI in another process
waiting in SQLite's busy handler) get the lock at least half of the time while it runs.
Deciding what to delete outside the write transaction is safe because deletability only ever
grows: a finished command never changes status again (a trigger), it only gets older, and only
newer commands can push it out of its stack's newest ``keep_commands``.

Space: the database does not use ``auto_vacuum`` (turning it on needs a full ``VACUUM``, holding
the lock for as long as it takes to rewrite the file), so deleted rows leave free pages inside the
file and SQLite reuses them for new rows: the file stops growing once compaction keeps pace with
the inflow; it does not shrink. ``space()`` tells how much of it is free.

Metrics: the counters and histograms of ``/metrics`` are row counts, and a count that went down
would read as a counter reset. So the transaction that deletes a batch of commands (or events)
first adds the batch's aggregates to ``retired_totals`` (``stats.retire_commands``,
``stats.retire_events``: the same SQL and histogram bounds as the reads that add them back), and
a scrape after compaction reports exactly what it did before. Deleted rows and their totals
commit together or not at all. Retiring costs a few grouped reads of the batch by primary key
and a few dozen upserts: about 5 ms per 500 commands on a small machine, roughly doubling that
batch's hold on the lock (still well inside the "half of the time" above).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from controller.db.rows import ts_to_db
from controller.db.stats import retire_commands, retire_events
from controller.models.enums import TERMINAL_STATUSES

if TYPE_CHECKING:
    from controller.db.access import DatabaseAccess

DEFAULT_KEEP_COMMANDS = 100
DEFAULT_KEEP_DAYS = 7.0
DEFAULT_EVENT_DAYS = 30.0
DEFAULT_AUDIT_DAYS = 365.0
DEFAULT_BATCH = 500

_FINISHED = "('" + "', '".join(sorted(status.value for status in TERMINAL_STATUSES)) + "')"

# The stack's keep_commands-th newest finished command: every finished command below it may go.
# ``+status`` keeps SQLite on idx_commands_stack_id (stack_id, then command_id as rowid: already
# newest-first, no sort) instead of sorting the stack's whole history out of a status index.
_BOUNDARY = f"""
SELECT command_id FROM commands
 WHERE stack_id = ? AND +status IN {_FINISHED}
 ORDER BY command_id DESC LIMIT 1 OFFSET ?
"""

# Candidates oldest first on idx_commands_created_at, resuming after the last one seen. A
# deletable command was created before the cutoff, so the walk covers only what is old: in a
# steady state, the few old commands that are kept, not the whole table.
_CANDIDATES = f"""
SELECT command_id, stack_id, created_at FROM commands INDEXED BY idx_commands_created_at
 WHERE created_at < :cutoff AND created_at >= :after_ts
   AND (created_at > :after_ts OR command_id > :after_id)
   AND +status IN {_FINISHED} AND COALESCE(ended_at, created_at) < :cutoff
 ORDER BY created_at, command_id LIMIT :limit
"""


@dataclass(frozen=True)
class RetentionPolicy:
    """How much finished work to keep (the defaults are docs/database.md's)."""

    keep_commands: int = DEFAULT_KEEP_COMMANDS  # per stack, the newest finished ones, any age
    keep_days: float = DEFAULT_KEEP_DAYS  # finished commands newer than this stay
    event_days: float = DEFAULT_EVENT_DAYS  # events older than this go
    audit_days: float = DEFAULT_AUDIT_DAYS  # audit log entries older than this go

    def __post_init__(self) -> None:
        # At least one: a stack's newest command tells the watcher what last happened to it.
        if self.keep_commands < 1:
            raise ValueError(f"keep_commands must be at least 1, not {self.keep_commands}")
        if self.keep_days < 0 or self.event_days < 0:
            raise ValueError("keep_days and event_days cannot be negative")
        # At least a day: a zero would empty the audit log at every compaction.
        if self.audit_days < 1:
            raise ValueError(f"audit_days must be at least 1, not {self.audit_days}")


@dataclass(frozen=True)
class CompactionResult:
    commands: int = 0  # commands deleted
    command_logs: int = 0  # their log lines
    events: int = 0
    audit_entries: int = 0
    transactions: int = 0  # write transactions taken (each at most ``batch`` rows)
    longest_transaction_s: float = 0.0  # the longest the write lock was held (measured)
    stopped: bool = False  # ``stop`` said so before everything was done


@dataclass(frozen=True)
class SpaceUsage:
    page_size: int
    pages: int
    free_pages: int  # pages of deleted rows, reused before the file grows

    @property
    def file_bytes(self) -> int:
        return self.page_size * self.pages

    @property
    def free_bytes(self) -> int:
        return self.page_size * self.free_pages


class RetentionRepository:
    def __init__(self, db: DatabaseAccess) -> None:
        self._db = db

    def compact(
        self,
        policy: RetentionPolicy,
        *,
        batch: int = DEFAULT_BATCH,
        stop: Callable[[], bool] = lambda: False,
    ) -> CompactionResult:
        """Delete what ``policy`` no longer keeps, ``batch`` rows per transaction.

        ``stop`` is asked before each transaction (a controller shutting down need not wait
        for a long catch-up): when it says yes, compaction ends there, ``stopped`` says so, and
        the next call goes on where this one stopped.

        Costs a few short reads per batch and per stack with deletable commands; the daemon
        calls it from a background thread (it waits between batches). Raises like any write
        (``TransientError``): what was deleted before stays deleted, and the next call goes on.
        """
        if batch < 1:
            raise ValueError(f"batch must be at least 1, not {batch}")
        now = self._db.clock()
        commands, events, audit = _Tally(stop), _Tally(stop), _Tally(stop)
        try:
            self._compact_commands(policy, now - timedelta(days=policy.keep_days), batch, commands)
            self._compact_events(now - timedelta(days=policy.event_days), batch, events)
            self._compact_outbox(now - timedelta(days=policy.event_days), batch, events)
            self._compact_audit(now - timedelta(days=policy.audit_days), batch, audit)
        except _Stopped:
            pass
        tallies = (commands, events, audit)
        return CompactionResult(
            commands=commands.rows,
            command_logs=commands.logs,
            events=events.rows,
            audit_entries=audit.rows,
            transactions=sum(t.transactions for t in tallies),
            longest_transaction_s=max(t.longest for t in tallies),
            stopped=any(t.stopped for t in tallies),
        )

    def space(self) -> SpaceUsage:
        with self._db.reading() as conn:
            return SpaceUsage(
                page_size=int(conn.execute("PRAGMA page_size").fetchone()[0]),
                pages=int(conn.execute("PRAGMA page_count").fetchone()[0]),
                free_pages=int(conn.execute("PRAGMA freelist_count").fetchone()[0]),
            )

    def counts(self) -> dict[str, int]:
        """Rows in the tables that retention bounds, and in the versions it keeps (for logs
        and benchmarks: counting a large table reads its whole index)."""
        with self._db.reading() as conn:
            return {
                table: int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                for table in ("commands", "command_logs", "events", "stack_versions")
            }

    @contextmanager
    def _writing(self, tally: _Tally) -> Iterator[sqlite3.Connection]:
        """One write transaction, timed from the lock taken to the commit; then the lock is
        left to others for as long (compaction holds it at most half of the time it runs)."""
        if tally.stop():
            tally.stopped = True
            raise _Stopped
        with self._db.transaction() as conn:
            start = time.perf_counter()
            yield conn
        held = time.perf_counter() - start
        tally.transactions += 1
        tally.longest = max(tally.longest, held)
        time.sleep(held)

    def _compact_commands(
        self, policy: RetentionPolicy, cutoff: datetime, batch: int, tally: _Tally
    ) -> None:
        boundaries: dict[str, int | None] = {}
        after_ts, after_id = "", 0
        chosen: list[int] = []
        while True:
            with self._db.reading() as conn:
                rows = conn.execute(
                    _CANDIDATES,
                    {
                        "cutoff": ts_to_db(cutoff),
                        "after_ts": after_ts,
                        "after_id": after_id,
                        "limit": batch,
                    },
                ).fetchall()
                for command_id, stack_id, _created_at in rows:
                    if stack_id not in boundaries:
                        found = conn.execute(
                            _BOUNDARY, (stack_id, policy.keep_commands - 1)
                        ).fetchone()
                        boundaries[stack_id] = None if found is None else found[0]
                    boundary = boundaries[stack_id]
                    if boundary is not None and command_id < boundary:
                        chosen.append(command_id)
            if rows:
                after_ts, after_id = rows[-1]["created_at"], rows[-1]["command_id"]
            while len(chosen) >= batch or (chosen and not rows):
                self._delete_commands(chosen[:batch], tally)
                del chosen[:batch]
            if not rows:
                return

    def _delete_commands(self, ids: list[int], tally: _Tally) -> None:
        with self._writing(tally) as conn:
            retire_commands(conn, ids)  # before they go: what the counters counted stays counted
            # Logs first, for the count (the cascade would delete them without saying how many).
            tally.logs += conn.execute(
                "DELETE FROM command_logs WHERE command_id IN (SELECT value FROM json_each(?))",
                (json.dumps(ids),),
            ).rowcount
            tally.rows += conn.execute(
                "DELETE FROM commands WHERE command_id IN (SELECT value FROM json_each(?))"
                f" AND status IN {_FINISHED}",
                (json.dumps(ids),),
            ).rowcount

    def _compact_events(self, cutoff: datetime, batch: int, tally: _Tally) -> None:
        """Oldest ids first, until a whole batch is recent: events are appended as they happen,
        so ids follow time (one recorded out of order waits for the ones before it to age)."""
        after, before = 0, ts_to_db(cutoff)
        while True:
            with self._db.reading() as conn:
                rows = conn.execute(
                    "SELECT event_id, ts FROM events WHERE event_id > ? ORDER BY event_id LIMIT ?",
                    (after, batch),
                ).fetchall()
            old = [row[0] for row in rows if row[1] < before]
            if not old:
                return
            with self._writing(tally) as conn:
                retire_events(conn, old)
                tally.rows += conn.execute(
                    "DELETE FROM events WHERE event_id IN (SELECT value FROM json_each(?))",
                    (json.dumps(old),),
                ).rowcount
            after = rows[-1][0]

    def _compact_outbox(self, cutoff: datetime, batch: int, tally: _Tally) -> None:
        """Notifications older than the events go with their deliveries once none is still to
        be sent (a message still retrying stays, whatever its age). Not counted in ``events``:
        they are copies of what the events and commands say."""
        before = ts_to_db(cutoff)
        while True:
            with self._db.reading() as conn:
                old = [
                    row[0]
                    for row in conn.execute(
                        "SELECT message_id FROM outbox o WHERE created_at < ?"
                        " AND routed_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM deliveries d"
                        "  WHERE d.message_id = o.message_id AND d.status = 'PENDING')"
                        " ORDER BY message_id LIMIT ?",
                        (before, batch),
                    )
                ]
            if not old:
                return
            with self._writing(tally) as conn:
                conn.execute(
                    "DELETE FROM outbox WHERE message_id IN (SELECT value FROM json_each(?))",
                    (json.dumps(old),),
                )
            if len(old) < batch:
                return

    def _compact_audit(self, cutoff: datetime, batch: int, tally: _Tally) -> None:
        """Audit entries recorded before ``cutoff``, oldest first on ``idx_audit_log_at``, a
        batch per transaction; nothing else ever deletes one (``db.audit``)."""
        before = ts_to_db(cutoff)
        while True:
            with self._db.reading() as conn:
                old = [
                    row[0]
                    for row in conn.execute(
                        "SELECT entry_id FROM audit_log WHERE at < ? ORDER BY at LIMIT ?",
                        (before, batch),
                    )
                ]
            if not old:
                return
            with self._writing(tally) as conn:
                tally.rows += conn.execute(
                    "DELETE FROM audit_log WHERE entry_id IN (SELECT value FROM json_each(?))",
                    (json.dumps(old),),
                ).rowcount
            if len(old) < batch:
                return


class _Stopped(Exception):
    """``stop`` said yes: compaction ends before its next transaction."""


class _Tally:
    """Counts of one compaction, and the longest its write transactions held the lock."""

    def __init__(self, stop: Callable[[], bool]) -> None:
        self.stop = stop
        self.stopped = False
        self.rows = 0
        self.logs = 0
        self.transactions = 0
        self.longest = 0.0
