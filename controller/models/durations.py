"""Durations and moments as people type them: ``30d``, ``12h``, ``2w``, ``90m`` (a token's
``--expires``, the audit log's ``--since 24h``) and ``2026-12-01T00:00Z`` (``--since``).

Plain functions, no pydantic: the command line parses them before it loads anything else. A
text that is not one is a ``ValueError`` whose message says what is expected, so that a
command can print it as it is.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1),
         "w": timedelta(weeks=1)}  # fmt: skip
LONGEST = timedelta(days=3660)  # ten years: anything longer is a typo, or "never" (leave it out)
_DURATION = re.compile(r"(\d{1,7})([mhdw])")
_EXPECTED = "a whole number and a unit: m (minutes), h (hours), d (days) or w (weeks), e.g. 30d"


def parse_duration(text: str) -> timedelta:
    """``30d`` -> 30 days. ``ValueError`` for anything else, for zero, and beyond ten years."""
    found = _DURATION.fullmatch(text.strip().lower())
    if found is None:
        raise ValueError(f"{text!r} is not a duration: {_EXPECTED}")
    amount = int(found.group(1))
    if amount == 0:
        raise ValueError(f"{text!r} is no time at all: {_EXPECTED}")
    duration = amount * UNITS[found.group(2)]
    if duration > LONGEST:
        raise ValueError(f"{text!r} is longer than ten years ({LONGEST.days} days)")
    return duration


def parse_since(text: str, *, now: datetime) -> datetime:
    """A moment: ``24h`` (that long before ``now``), or an ISO 8601 date or time
    (``2026-12-01``, ``2026-12-01T00:00Z``; without a zone, UTC). ``ValueError`` otherwise."""
    if _DURATION.fullmatch(text.strip().lower()):
        return now - parse_duration(text)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a duration ({_EXPECTED}) nor a date or time"
            " (2026-12-01 or 2026-12-01T00:00Z)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
