"""Go's ``encoding/json.Marshal`` of a compose-go service, byte for byte.

``marshal_struct(name, value)`` renders a JSON-able dict as the Go struct ``name`` of
``schema.SCHEMA`` would be marshalled: fields in declaration order, omitempty as Go applies
it, map keys sorted, compact, HTML-escaped strings, compose-go's custom marshallers
(durations as ``time.Duration.String()``, byte sizes as quoted decimals, float32 shortest
form, file modes in octal, ...). A key the schema does not know raises ``UnknownField``: a
field Compose added that we would otherwise hash wrongly in silence.
"""

from __future__ import annotations

import json
import math
import struct
from decimal import Decimal
from typing import Any

from controller.desired.compose_hash.schema import SCHEMA

Field = tuple[str, str, Any]


class UnknownField(ValueError):
    """A key compose-go's struct does not have (so this module cannot marshal it exactly)."""


def go_float(x: float, bits: int = 32) -> str:
    """encoding/json's float encoder: the shortest form that reads back to the same float of
    ``bits`` bits; ``e`` notation only below 1e-6 or from 1e21."""
    value = float(x)
    if math.isinf(value) or math.isnan(value):
        raise ValueError("Go cannot marshal inf or NaN")
    if bits == 32:
        value = struct.unpack("f", struct.pack("f", value))[0]

    def reads_back(text: str) -> bool:
        if bits == 32:
            return bool(struct.unpack("f", struct.pack("f", float(text)))[0] == value)
        return float(text) == value

    if value == 0:
        return "0" if math.copysign(1, value) > 0 else "-0"
    text = next(s for s in (f"{value:.{p - 1}e}" for p in range(1, 18)) if reads_back(s))
    if abs(value) < 1e-6 or abs(value) >= 1e21:
        mantissa, exponent = text.split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        e = int(exponent)  # Go writes e+21 and e-7 ("clean up e-09 to e-9")
        return f"{mantissa}e-{-e}" if e < 0 else f"{mantissa}e+{e:02d}"
    plain = format(Decimal(text), "f")
    return plain.rstrip("0").rstrip(".") if "." in plain else plain


def go_string(s: str) -> str:
    """A JSON string as Go writes it: UTF-8 kept, ``<>&`` and U+2028/9 escaped."""
    out = json.dumps(s, ensure_ascii=False)
    return (
        out.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )  # fmt: skip


def go_duration(value: str | int | float) -> str:
    """``time.Duration.String()``: ``"1m30s"``, ``"500ms"``, ``"0s"``. A string is taken as
    already rendered; a number is **seconds**."""
    if isinstance(value, str):
        return value
    ns = round(float(value) * 1e9)
    if ns == 0:
        return "0s"
    sign, u = ("-" if ns < 0 else ""), abs(ns)
    if u < 1000:
        return f"{sign}{u}ns"
    if u < 1_000_000:
        return f"{sign}{_fraction(u, 3)}µs"
    if u < 1_000_000_000:
        return f"{sign}{_fraction(u, 6)}ms"
    seconds = _fraction(u % 60_000_000_000, 9) + "s"
    hours, minutes = divmod(u // 60_000_000_000, 60)
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    return f"{sign}{minutes}m{seconds}" if minutes else f"{sign}{seconds}"


def _fraction(v: int, digits: int) -> str:
    whole, part = divmod(v, 10**digits)
    return str(whole) if part == 0 else f"{whole}.{str(part).rjust(digits, '0').rstrip('0')}"


def _scalar(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return go_float(v, 64)
    if isinstance(v, str):
        return go_string(v)
    raise TypeError(f"cannot marshal {v!r}")


def _generic(v: Any) -> str:
    """An untyped value: a Go map (keys sorted), a slice, or a scalar."""
    if isinstance(v, dict):
        return "{" + ",".join(go_string(k) + ":" + _generic(v[k]) for k in sorted(v)) + "}"
    if isinstance(v, list | tuple):
        return "[" + ",".join(_generic(x) for x in v) + "]"
    return _scalar(v)


def _is_empty(v: Any) -> bool:
    """What omitempty leaves out: false, 0, "", null, an empty slice or map."""
    if v is None or v is False:
        return True
    if isinstance(v, int | float) and not isinstance(v, bool):
        return v == 0
    return isinstance(v, str | list | tuple | dict) and len(v) == 0


def _string_list(v: Any) -> str:
    items = [v] if isinstance(v, str | int) else v
    return "[" + ",".join(go_string(str(x)) for x in items) + "]"


def _hosts(v: Any) -> str:
    """HostsList.MarshalJSON: a sorted list of ``host=ip``."""
    if isinstance(v, dict):
        v = [f"{h}={ip}" for h, ips in v.items() for ip in ([ips] if isinstance(ips, str) else ips)]
    return "[" + ",".join(go_string(x) for x in sorted(v)) + "]"


def _env_file(v: Any) -> str:
    if isinstance(v, str) or v.get("required", True):
        return go_string(v if isinstance(v, str) else v["path"])
    parts = ([f'"path":{go_string(v["path"])}'] if v.get("path") else []) + ['"required":false']
    if v.get("format"):
        parts.append(f'"format":{go_string(v["format"])}')
    return "{" + ",".join(parts) + "}"


def _ulimit(v: Any) -> str:
    if isinstance(v, int):
        return str(v)
    if v.get("single"):
        return str(int(v["single"]))
    return marshal_fields([("soft", "o", None), ("hard", "o", None)], v, "ulimit")


def _file_mode(v: Any) -> str:
    return go_string(v if isinstance(v, str) else f"0{int(v):o}")


_SPECIAL = {
    "@opaque": _generic,
    "@float32": lambda v: go_float(v, 32),
    "@unitbytes": lambda v: f'"{int(v)}"',
    "@duration": lambda v: go_string(go_duration(v)),
    "@filemode": _file_mode,
    "@str": lambda v: go_string(str(v)),
    "@stringlist": _string_list,
    "@hostslist": _hosts,
    "@envfile": _env_file,
    "@ulimit": _ulimit,
}


def _value(sub: Any, v: Any) -> str:
    if sub is None:
        return _generic(v)
    if isinstance(sub, tuple):
        kind, inner = sub
        if kind == "list":
            return "[" + ",".join(_value(inner, x) for x in v) + "]"
        return "{" + ",".join(
            go_string(k) + ":" + ("null" if v[k] is None else _value(inner, v[k]))
            for k in sorted(v)
        ) + "}"  # fmt: skip
    if sub.startswith("@"):
        return _SPECIAL[sub](v)
    return "null" if v is None else marshal_fields(SCHEMA[sub], v, sub)


def marshal_fields(fields: list[Field], obj: dict[str, Any], name: str) -> str:
    """``obj`` as the Go struct whose fields are ``fields`` (``x-`` keys are Go's
    ``json:"-"`` extensions: left out)."""
    known = {f[0] for f in fields}
    unknown = sorted(k for k in obj if k not in known and not k.startswith("x-"))
    if unknown:
        raise UnknownField(f"{name}: unknown field(s) {', '.join(unknown)}")
    parts = []
    for key, kind, sub in fields:
        v = obj.get(key)
        if (kind == "o" and _is_empty(v)) or (kind == "p" and v is None):
            continue
        if kind == "s" and v is None:
            v = {}
        parts.append(go_string(key) + ":" + ("null" if v is None else _value(sub, v)))
    return "{" + ",".join(parts) + "}"


def marshal_struct(name: str, obj: dict[str, Any]) -> str:
    return marshal_fields(SCHEMA[name], obj, name)
