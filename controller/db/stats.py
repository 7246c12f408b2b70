"""Read-only aggregates for the metrics endpoint (counts and histograms computed in SQL), and the
totals of the rows compaction deleted, which the counters among them add back.

Every read is one bounded query (GROUP BY over indexed columns, or one pass that sums bucket
conditions, plus the small ``retired_totals`` table), so a scrape costs the same whatever the
history's length in rows returned. Durations come from the stored timestamps (``julianday``:
whole milliseconds, summed as integers so that a sum does not depend on how rows were grouped).

Counters stay monotonic when ``db.retention`` deletes old rows: in the transaction that deletes
a batch, it calls ``retire_commands`` or ``retire_events``, which add the batch's aggregates to
``retired_totals`` with the same SQL fragments (statuses, span arithmetic, histogram bounds) as
the reads here, and each counter-like read (``finished_commands``, ``commands_by_status`` for
finished statuses, ``durations``, ``events_by_stack``) adds them back *in the same statement*
(reads are autocommit: two statements could straddle a compaction's commit and count its batch
twice or not at all). Gauges (``stacks_by``, ``commands_by_status`` for PENDING and RUNNING) get
nothing retired: they may go down, and compaction never deletes what they count.

``retired_totals`` rows, by ``metric`` (``labels`` is a JSON array written by ``_labels``):
- ``commands`` ``[stack_id, type, status]``: finished commands deleted;
- ``span_count`` / ``span_ms`` ``[span, type, status]``: of those, how many had both ends of the
  span ("run", "wait"), and their durations' sum in milliseconds;
- ``span_le`` ``[span, type, status, le]``: how many of them lasted at most ``le`` seconds
  (``le`` as the metric prints it, one of the span's bounds; zeros are not stored);
- ``events`` ``[reason, stack_id]``: events deleted (every reason: ``events_by_stack`` may be
  asked any; the table holds one row per reason and stack ever seen).

The histogram bounds live here, not in the API, because a retired bucket is only meaningful for
the bound it was counted at: ``durations`` takes no bounds. Changing a span's bounds therefore
needs a migration that rewrites (or drops, accepting one reset) its ``span_le`` rows.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from controller.db.suspension import SHOWN, STACK_FROM
from controller.models.enums import TERMINAL_STATUSES

if TYPE_CHECKING:
    from controller.db.access import DatabaseAccess

RUN_BOUNDS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
WAIT_BOUNDS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)

_FINISHED = "('" + "', '".join(sorted(status.value for status in TERMINAL_STATUSES)) + "')"
_RESULTS = "('DONE', 'FAILED')"  # what counts as a reconcile's result and as a run duration


@dataclass(frozen=True)
class _Span:
    """What a duration is measured between (column pairs are fixed here, never taken from
    callers), and its histogram's upper bounds in seconds."""

    start: str
    end: str
    bounds: tuple[float, ...]

    @property
    def present(self) -> str:
        return f"{self.start} IS NOT NULL AND {self.end} IS NOT NULL"

    def aggregate(self, group: str, where: str) -> str:
        """``SELECT {group}, n, ms, b0, b1, ...`` over the commands matching ``where`` that
        have both ends of the span: rows, their milliseconds summed, and a cumulative count per
        bound (named parameters ``:b0``...: ``bound_params``). Each duration is computed once
        per row, in the inner query: its ``LIMIT -1`` (no limit) keeps SQLite from flattening
        it into the outer one, which would compute it again for every bound (twice as slow)."""
        ms = (
            f"CAST(round((julianday({self.end}) - julianday({self.start})) * 86400000.0)"
            " AS INTEGER)"
        )
        buckets = "".join(
            f", SUM(CASE WHEN ms / 1000.0 <= :b{i} THEN 1 ELSE 0 END) AS b{i}"
            for i in range(len(self.bounds))
        )
        return (
            f"SELECT {group}, COUNT(*) AS n, SUM(ms) AS ms{buckets} FROM ("
            f" SELECT {group}, {ms} AS ms FROM commands"
            f"  WHERE ({where}) AND {self.present} LIMIT -1)"
            f" GROUP BY {group}"
        )

    def bound_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {f"b{i}": bound for i, bound in enumerate(self.bounds)}
        params.update({f"le{i}": le(bound) for i, bound in enumerate(self.bounds)})
        return params


_SPANS = {
    "run": _Span("started_at", "ended_at", RUN_BOUNDS),  # how long a command ran (last attempt)
    "wait": _Span("created_at", "started_at", WAIT_BOUNDS),  # queued until its (last) claim
}


def le(bound: float) -> str:
    """A bound as the exposition format prints it (``le`` label), and as it is retired."""
    return repr(float(bound))


@dataclass(frozen=True)
class Histogram:
    """Cumulative counts per upper bound (``buckets[i]`` counts values ``<= bounds[i]``)."""

    bounds: tuple[float, ...]
    buckets: tuple[int, ...]
    count: int
    total: float


class StatsRepository:
    def __init__(self, db: DatabaseAccess) -> None:
        self._db = db

    def deliveries(self) -> list[tuple[str, str, int]]:
        """``(destination label, status, count)`` of the notifications in the outbox."""
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT label, status, COUNT(*) FROM deliveries GROUP BY label, status"
                " ORDER BY label, status"
            ).fetchall()
        return [(row[0], row[1], row[2]) for row in rows]

    def finished_commands(self, types: Sequence[str]) -> list[tuple[str, str, str, int]]:
        """``(stack_id, type, status, count)`` of commands that ended DONE or FAILED, the
        deleted ones included."""
        marks = ",".join("?" * len(types))
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT stack_id, type, status, SUM(n) FROM ("
                " SELECT stack_id, type, status, COUNT(*) AS n FROM commands"
                f"  WHERE status IN {_RESULTS} AND type IN ({marks})"
                "  GROUP BY stack_id, type, status"
                " UNION ALL"
                " SELECT json_extract(labels, '$[0]'), json_extract(labels, '$[1]'),"
                "        json_extract(labels, '$[2]'), value"
                "  FROM retired_totals WHERE metric = 'commands')"
                f" WHERE status IN {_RESULTS} AND type IN ({marks})"
                " GROUP BY stack_id, type, status ORDER BY stack_id, type, status",
                (*types, *types),
            ).fetchall()
        return [(row[0], row[1], row[2], int(row[3])) for row in rows]

    def commands_by_status(self) -> dict[str, int]:
        """Commands per status; the finished statuses count the deleted ones too (compaction
        deletes nothing else, so PENDING and RUNNING are the live queue)."""
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT status, SUM(n) FROM ("
                " SELECT status, COUNT(*) AS n FROM commands GROUP BY status"
                " UNION ALL"
                " SELECT json_extract(labels, '$[2]'), value"
                "  FROM retired_totals WHERE metric = 'commands')"
                " GROUP BY status"
            ).fetchall()
        return {str(row[0]): int(row[1]) for row in rows}

    def durations(self, span: str, *, finished_only: bool) -> dict[str, Histogram]:
        """A histogram per command type of the ``span`` ("run" or "wait") durations, in
        seconds, over ``bounds(span)``, the deleted commands included; ``finished_only`` keeps
        commands that ended DONE or FAILED."""
        spec = _SPANS[span]
        live, retired = "TRUE", "json_extract(labels, '$[0]') = :span"
        if finished_only:
            live = f"status IN {_RESULTS}"
            retired += f" AND json_extract(labels, '$[2]') IN {_RESULTS}"
        indexes = range(len(spec.bounds))
        pivot = "".join(
            f", SUM(CASE WHEN metric = 'span_le' AND json_extract(labels, '$[3]') = :le{i}"
            " THEN value ELSE 0 END)"
            for i in indexes
        )
        with self._db.reading() as conn:
            rows = conn.execute(
                f"SELECT type, SUM(n), SUM(ms){''.join(f', SUM(b{i})' for i in indexes)} FROM ("
                f" {spec.aggregate('type', live)}"
                " UNION ALL"
                " SELECT json_extract(labels, '$[1]'),"
                "        SUM(CASE WHEN metric = 'span_count' THEN value ELSE 0 END),"
                f"       SUM(CASE WHEN metric = 'span_ms' THEN value ELSE 0 END){pivot}"
                "  FROM retired_totals"
                f" WHERE metric IN ('span_count', 'span_ms', 'span_le') AND {retired}"
                "  GROUP BY 1)"
                " GROUP BY type ORDER BY type",
                {"span": span, **spec.bound_params()},
            ).fetchall()
        return {
            row[0]: Histogram(
                bounds=spec.bounds,
                buckets=tuple(int(n or 0) for n in tuple(row)[3:]),
                count=int(row[1]),
                total=max(0.0, int(row[2] or 0) / 1000.0),
            )
            for row in rows
        }

    def stacks_by(self, column: str) -> dict[str, int]:
        """Stacks counted by ``sync_status``, ``health_status``, ``suspended`` or ``pinned``;
        deleted stacks (their row kept, with no desired and no applied version) are not
        counted: they are neither Synced nor Missing. A gauge: nothing retired."""
        if column not in SHOWN:
            raise ValueError(f"cannot count stacks by {column!r}")
        with self._db.reading() as conn:  # as the stacks read (suspended ones: Suspended)
            rows = conn.execute(
                f"SELECT {SHOWN[column]}, COUNT(*) FROM {STACK_FROM}"
                " WHERE s.current_version IS NOT NULL OR s.applied_version IS NOT NULL"
                " GROUP BY 1"
            )
            return {str(row[0]): int(row[1]) for row in rows.fetchall()}

    def events_by_stack(self, reason: str) -> dict[str | None, int]:
        """How many events of ``reason`` each stack has had, the deleted ones included
        (``None``: events of no stack)."""
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT stack_id, SUM(n) FROM ("
                " SELECT stack_id, COUNT(*) AS n FROM events WHERE reason = :reason"
                "  GROUP BY stack_id"
                " UNION ALL"
                " SELECT json_extract(labels, '$[1]'), value FROM retired_totals"
                "  WHERE metric = 'events' AND json_extract(labels, '$[0]') = :reason)"
                " GROUP BY stack_id",
                {"reason": reason},
            ).fetchall()
        return {row[0]: int(row[1]) for row in rows}


def bounds(span: str) -> tuple[float, ...]:
    """The histogram bounds of ``span`` ("run" or "wait")."""
    return _SPANS[span].bounds


def retire_commands(conn: sqlite3.Connection, ids: Sequence[int]) -> None:
    """Add the finished ones among commands ``ids`` to ``retired_totals``. Call it inside the
    transaction that deletes them, before the delete (what it counts must go with them)."""
    params: dict[str, Any] = {"ids": json.dumps(list(ids))}
    chosen = f"command_id IN (SELECT value FROM json_each(:ids)) AND status IN {_FINISHED}"
    totals = [
        ("commands", _labels(stack_id, kind, status), n)
        for stack_id, kind, status, n in conn.execute(
            "SELECT stack_id, type, status, COUNT(*) FROM commands"
            f" WHERE {chosen} GROUP BY stack_id, type, status",
            params,
        )
    ]
    for name, span in _SPANS.items():
        rows = conn.execute(
            span.aggregate("type, status", chosen), {**params, **span.bound_params()}
        ).fetchall()
        for kind, status, n, ms, *buckets in rows:
            totals.append(("span_count", _labels(name, kind, status), n))
            totals.append(("span_ms", _labels(name, kind, status), ms))
            totals.extend(
                ("span_le", _labels(name, kind, status, le(bound)), count)
                for bound, count in zip(span.bounds, buckets, strict=True)
            )
    _add(conn, totals)


def retire_events(conn: sqlite3.Connection, ids: Sequence[int]) -> None:
    """Add events ``ids`` to ``retired_totals``, inside the transaction that deletes them."""
    rows = conn.execute(
        "SELECT reason, stack_id, COUNT(*) FROM events"
        " WHERE event_id IN (SELECT value FROM json_each(?)) GROUP BY reason, stack_id",
        (json.dumps(list(ids)),),
    )
    _add(conn, [("events", _labels(reason, stack_id), n) for reason, stack_id, n in rows])


def _labels(*values: str | None) -> str:
    """One spelling per label set: it is half of the primary key."""
    return json.dumps(list(values), separators=(",", ":"))


def _add(conn: sqlite3.Connection, totals: Iterable[tuple[str, str, int]]) -> None:
    conn.executemany(
        "INSERT INTO retired_totals (metric, labels, value) VALUES (?, ?, ?)"
        " ON CONFLICT (metric, labels) DO UPDATE SET value = value + excluded.value",
        [(metric, labels, int(value)) for metric, labels, value in totals if value],
    )
