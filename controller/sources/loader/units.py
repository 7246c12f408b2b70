"""Durations and byte sizes as Compose writes them, turned into plain integers.

Durations follow Go's ``time.ParseDuration`` (``1m30s``, ``10s``, ``1h``, ``500ms``, ``1.5s``;
units ns, us/µs, ms, s, m, h; a bare ``0``) and become **nanoseconds** (``int``), the unit of
the Docker API's healthcheck fields and of Compose's own model. Byte sizes follow Docker's
``RAMInBytes`` (``1.5G``, ``512m``, ``1gb``, ``100kib``, plain integers; binary multipliers,
k = 1024) and become **bytes** (``int``). Arithmetic only: it never guesses a unit that is
not written, except that a bare number is a size in bytes, as in Compose.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_SIZE = re.compile(r"([0-9]+(?:\.[0-9]+)?) ?([kmgtp])?(i)?(b)?", re.IGNORECASE)
_POWERS = {None: 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}


def parse_duration(value: object) -> int:
    """Nanoseconds from a Compose duration string; numbers without a unit are refused, as in
    Go, because ``10`` could mean seconds or nanoseconds."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"expected a duration such as `30s`, got {value!r}")
    text = str(value).strip()
    if text == "0":
        return 0
    if isinstance(value, int):
        raise ValueError(f"a duration needs a unit, e.g. `{value}s`")
    total: int | Fraction = 0
    pos = 0
    while pos < len(text):
        match = _DURATION_PART.match(text, pos)
        if not match:
            raise ValueError(f"invalid duration {text!r}; expected e.g. `1m30s`, `10s`, `500ms`")
        number, unit = match.groups()
        # Fraction keeps `1.5s` exact; whole numbers (most durations) need none of its cost.
        total += (int(number) if number.isdigit() else Fraction(number)) * _NS[unit]
        pos = match.end()
    if not text:
        raise ValueError("empty duration")
    if total > MAX_INT64:
        raise ValueError(f"{text} is beyond the engine's limit (about 292 years)")
    return int(total)


def parse_bytes(value: object) -> int:
    """Bytes from an integer or a size string such as ``512m`` or ``1.5G``."""
    if isinstance(value, bool):
        raise ValueError(f"expected a size such as `512m`, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a size cannot be negative")
        return _in_range(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a size must be a finite number, got {value!r}")
        if value < 0:
            raise ValueError("a size cannot be negative")
        return _in_range(int(value))
    if not isinstance(value, str):
        raise ValueError(f"expected a size such as `512m`, got {value!r}")
    match = _SIZE.fullmatch(value.strip())
    if not match:
        raise ValueError(f"invalid size {value!r}; expected e.g. `512m`, `1.5G`, `1gb`")
    number, unit, _, _ = match.groups()
    scale = 1024 ** _POWERS[unit.lower() if unit else None]
    return _in_range(int(number) * scale if number.isdigit() else int(Fraction(number) * scale))


# The engine's sizes and durations are Go int64s: a larger one can never be applied (the
# engine answers 500, "cannot unmarshal number ... of type int64"), so it is refused here.
MAX_INT64 = 2**63 - 1


def _in_range(size: int) -> int:
    if size > MAX_INT64:
        raise ValueError(f"{size} bytes is beyond the engine's limit (2^63-1 bytes)")
    return size
