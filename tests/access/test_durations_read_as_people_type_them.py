"""``--expires 30d`` and ``--since 24h|2026-12-01T00:00Z``: durations in minutes, hours, days or
weeks, moments as ISO 8601 (UTC unless said); anything else is an error saying what is expected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from controller.models.durations import parse_duration, parse_since

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("12h", timedelta(hours=12)),
        ("30d", timedelta(days=30)),
        ("2w", timedelta(weeks=2)),
        (" 7D ", timedelta(days=7)),
        ("3660d", timedelta(days=3660)),
    ],
)
def test_a_duration(text: str, expected: timedelta):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("30", "is not a duration: a whole number and a unit"),
        ("30x", "is not a duration"),
        ("1.5d", "is not a duration"),
        ("-1d", "is not a duration"),
        ("d", "is not a duration"),
        ("", "is not a duration"),
        ("0h", "is no time at all"),
        ("523w", "longer than ten years"),
        ("99999999d", "is not a duration"),
    ],
)
def test_not_a_duration(text: str, said: str):
    with pytest.raises(ValueError, match=said):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24h", NOW - timedelta(hours=24)),
        ("2026-05-01", datetime(2026, 5, 1, tzinfo=UTC)),
        ("2026-05-01T00:00Z", datetime(2026, 5, 1, tzinfo=UTC)),
        ("2026-05-01T02:00+02:00", datetime(2026, 5, 1, tzinfo=UTC)),
        ("2026-05-01T08:30", datetime(2026, 5, 1, 8, 30, tzinfo=UTC)),
    ],
)
def test_a_moment(text: str, expected: datetime):
    assert parse_since(text, now=NOW) == expected


def test_not_a_moment():
    with pytest.raises(ValueError, match=r"neither a duration .* nor a date or time"):
        parse_since("yesterday", now=NOW)
