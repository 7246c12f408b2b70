"""Read-only aggregates for the metrics endpoint: counts and histograms computed in SQL.

Every method is one bounded query (GROUP BY over indexed columns, or one pass that sums bucket
conditions), so a scrape costs the same whatever the history's length in rows returned. Nothing
here writes. Durations come from the stored timestamps (``julianday``: millisecond precision).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from controller.db.access import DatabaseAccess

# What a duration is measured between (column pairs are fixed here, never taken from callers).
_SPANS = {
    "run": ("started_at", "ended_at"),  # how long a command ran (its last attempt)
    "wait": ("created_at", "started_at"),  # how long it waited in the queue before its claim
}


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

    def finished_commands(self, types: Sequence[str]) -> list[tuple[str, str, str, int]]:
        """``(stack_id, type, status, count)`` of commands that ended DONE or FAILED."""
        marks = ",".join("?" * len(types))
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT stack_id, type, status, COUNT(*) FROM commands"
                f" WHERE status IN ('DONE', 'FAILED') AND type IN ({marks})"
                " GROUP BY stack_id, type, status ORDER BY stack_id, type, status",
                tuple(types),
            ).fetchall()
        return [(row[0], row[1], row[2], int(row[3])) for row in rows]

    def durations(
        self, span: str, *, bounds: Sequence[float], finished_only: bool
    ) -> dict[str, Histogram]:
        """A histogram per command type of the ``span`` ("run" or "wait") durations, in
        seconds; ``finished_only`` keeps commands that ended DONE or FAILED."""
        start, end = _SPANS[span]
        seconds = f"((julianday({end}) - julianday({start})) * 86400.0)"
        sums = ", ".join(f"SUM(CASE WHEN {seconds} <= ? THEN 1 ELSE 0 END)" for _ in bounds)
        where = f"{start} IS NOT NULL AND {end} IS NOT NULL"
        if finished_only:
            where += " AND status IN ('DONE', 'FAILED')"
        with self._db.reading() as conn:
            rows = conn.execute(
                f"SELECT type, COUNT(*), TOTAL({seconds}) {', ' + sums if sums else ''}"
                f" FROM commands WHERE {where} GROUP BY type ORDER BY type",
                tuple(bounds),
            ).fetchall()
        return {
            row[0]: Histogram(
                bounds=tuple(bounds),
                buckets=tuple(int(n or 0) for n in tuple(row)[3:]),
                count=int(row[1]),
                total=max(0.0, float(row[2])),
            )
            for row in rows
        }

    def stacks_by(self, column: str) -> dict[str, int]:
        """Stacks counted by ``sync_status``, ``health_status``, ``suspended`` or ``pinned``;
        deleted stacks (their row kept, with no desired and no applied version) are not
        counted: they are neither Synced nor Missing."""
        if column not in ("sync_status", "health_status", "suspended", "pinned"):
            raise ValueError(f"cannot count stacks by {column!r}")
        with self._db.reading() as conn:
            rows = conn.execute(
                f"SELECT {column}, COUNT(*) FROM stacks"
                " WHERE current_version IS NOT NULL OR applied_version IS NOT NULL"
                f" GROUP BY {column}"
            )
            return {str(row[0]): int(row[1]) for row in rows.fetchall()}

    def events_by_stack(self, reason: str) -> dict[str | None, int]:
        """How many events of ``reason`` each stack has (``None``: events of no stack)."""
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT stack_id, COUNT(*) FROM events WHERE reason = ? GROUP BY stack_id",
                (reason,),
            ).fetchall()
        return {row[0]: int(row[1]) for row in rows}
