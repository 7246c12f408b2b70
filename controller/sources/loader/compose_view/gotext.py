"""Go's renderings of values, as compose-go v2.9.1 produces them while it loads a file.

``sprint`` is ``fmt.Sprint`` of a YAML scalar (labels, environment and option values: ``3.5``,
``1e+06``, ``true``); ``duration`` is ``time.Duration.String()`` (``1m30s``); ``float32`` the
value a Go ``float32`` field keeps; ``shell_words`` is ``github.com/mattn/go-shellwords``
v1.0.12 ``Parse`` (how a ``command`` string becomes a list; it stops at an unquoted ``;``,
``&``, ``|``, ``<`` or ``>``, which Python's ``shlex`` does not). Pure functions.
"""

from __future__ import annotations

import math
import struct
from decimal import Decimal

from controller.sources.loader.units import parse_duration


class NoView(Exception):
    """Why a service has no exact Compose view; the message says which key and why."""


def sprint(value: object) -> str:
    """``fmt.Sprint`` of a YAML scalar."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _format_g(value)
    if isinstance(value, str):
        return value
    raise NoView(f"a {type(value).__name__} where Compose wants a scalar")


def _format_g(value: float) -> str:
    """``fmt.Sprint`` of a float64 (``%v``, i.e. ``strconv.FormatFloat(v, 'g', -1, 64)``):
    shortest digits, in exponent form below 1e-4 and from 1e6 (``1e+06``)."""
    if math.isinf(value) or math.isnan(value):
        return ("+Inf" if value > 0 else "-Inf") if math.isinf(value) else "NaN"
    if value == 0:
        return "0" if math.copysign(1, value) > 0 else "-0"
    mantissa = Decimal(repr(value))
    sign, ds, exp = mantissa.normalize().as_tuple()
    exponent = len(ds) + int(exp) - 1
    if exponent < -4 or exponent >= 6:
        text = "".join(map(str, ds))
        body = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{'-' if sign else ''}{body}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    return format(mantissa.normalize(), "f")


def float32(value: object) -> float:
    """The value a Go ``float32`` keeps (``cpus: "0.5"`` is 0.5), as its shortest decimal."""
    if isinstance(value, bool):
        raise NoView(f"{value!r} is not a number")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise NoView(f"{value!r} is not a number") from None
    single = struct.unpack("f", struct.pack("f", number))[0]
    for precision in range(1, 10):
        text = f"{single:.{precision}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            return float(text)
    return single


def duration(value: object) -> str:
    """A Compose duration as Go prints it: ``90s`` is ``1m30s``, ``0`` is ``0s``."""
    try:
        nanoseconds = parse_duration(value)
    except ValueError as e:
        raise NoView(str(e)) from None
    return duration_string(nanoseconds)


def duration_string(ns: int) -> str:
    """``time.Duration(ns).String()``."""
    if ns == 0:
        return "0s"
    sign, ns = ("-" if ns < 0 else ""), abs(ns)
    if ns < 1_000_000_000:
        for unit, scale in (("ns", 1), ("µs", 1_000), ("ms", 1_000_000)):
            if ns < scale * 1000:
                return sign + _fraction(ns, scale) + unit
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    text = _fraction(rest, 1_000_000_000) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{text}"
    return f"{sign}{minutes}m{text}" if minutes else sign + text


def _fraction(value: int, scale: int) -> str:
    whole, part = divmod(value, scale)
    if not part:
        return str(whole)
    width = len(str(scale)) - 1
    return f"{whole}." + str(part).rjust(width, "0").rstrip("0")


_STOP = frozenset(";&|<>")


def shell_words(line: str) -> list[str]:
    """go-shellwords v1.0.12 ``Parse`` with its defaults (no env, no backticks run)."""
    args: list[str] = []
    buf, got = "", False
    escaped = double = single = back = dollar = False
    for char in line:
        if escaped:
            buf, escaped, got = buf + char, False, True
            continue
        if char == "\\":
            if single:
                buf += char
            else:
                escaped = True
            continue
        if char in " \t\r\n":
            if single or double or back or dollar:
                buf += char
            elif got:
                args.append(buf)
                buf, got = "", False
            continue
        quoting = single or double
        if char == "`" and not quoting and not dollar:
            back = not back
        elif char == ")" and not quoting and not back:
            dollar = not dollar
        elif char == "(" and not quoting and not back:
            if dollar or not buf.endswith("$"):
                raise NoView(f"Compose cannot split the command {line!r}")
            dollar = True
        elif char == '"' and not single and not dollar:
            got, double = got or double, not double
            continue
        elif char == "'" and not double and not dollar:
            got, single = got or single, not single
            continue
        elif char in _STOP and not (quoting or back or dollar):
            if char == ">" and buf[:1].isdigit():
                got = False
            break
        got, buf = True, buf + char
    if got:
        args.append(buf)
    if escaped or single or double or back or dollar:
        raise NoView(f"Compose cannot split the command {line!r}")
    return args
