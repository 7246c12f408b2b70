"""The ``.env`` file format, as Compose reads it.

``KEY=value`` lines, optional ``export`` prefix, ``#`` comments (whole-line, or after a space
in an unquoted value), single quotes (literal), double quotes (``\\n``, ``\\t``, ``\\"``,
``\\\\``, ``\\$`` escapes; may span lines), and ``${VAR}`` expansion in unquoted and
double-quoted values against the caller's variables first, then the keys defined earlier in
the same file. ``format: raw`` files take every value literally. A bare ``KEY`` (no ``=``)
would read the shell's environment in Compose; stackctl never reads its own environment, so
such a key is left out and reported back to the caller for a warning.

This module parses text it is handed; it must never read files or the process environment.
"""

from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field

from controller.sources.loader.interpolation import InterpolationError, Interpolator

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "'": "'"}


class DotenvError(Exception):
    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}")


@dataclass
class Dotenv:
    values: dict[str, str] = field(default_factory=dict)
    bare: list[str] = field(default_factory=list)  # keys without "=", left out
    unset: list[str] = field(default_factory=list)  # variables expanded while unset


def parse_dotenv(text: str, *, lookup: Mapping[str, str], raw: bool = False) -> Dotenv:
    result = Dotenv()
    interp = Interpolator(ChainMap(dict(lookup), result.values))
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        number = i + 1
        line = lines[i].strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        if line.startswith("export ") and not raw:
            line = line[len("export ") :].lstrip()
        if "=" not in line:
            _check_key(line, number)
            result.bare.append(line)
            continue
        key, _, rest = line.partition("=")
        key = key.strip()
        _check_key(key, number)
        rest = rest.lstrip()
        if raw:
            result.values[key] = rest
            continue
        try:
            if rest[:1] in ("'", '"'):
                template, i = _quoted(rest, lines, i=i, number=number)
            else:
                template = _strip_comment(rest)
            value = interp.expand(template)
        except InterpolationError as e:
            raise DotenvError(number, e.message) from e
        result.values[key] = value
    result.unset = list(dict.fromkeys(interp.unset))
    return result


def _check_key(key: str, number: int) -> None:
    if not _KEY.fullmatch(key):
        raise DotenvError(number, f"invalid variable name {key!r}")


def _strip_comment(value: str) -> str:
    match = re.search(r"\s#", value)
    return (value[: match.start()] if match else value).rstrip()


def _quoted(rest: str, lines: list[str], *, i: int, number: int) -> tuple[str, int]:
    """Read a quoted value that may continue on the following lines, as a template for
    expansion (literal dollars doubled)."""
    quote = rest[0]
    body = rest[1:]
    while True:
        end = _closing_quote(body, quote)
        if end >= 0:
            break
        if i >= len(lines):
            raise DotenvError(number, f"unterminated {quote} quote")
        body += "\n" + lines[i]
        i += 1
    tail = body[end + 1 :].strip()
    if tail and not tail.startswith("#"):
        raise DotenvError(number, f"unexpected text after the closing quote: {tail!r}")
    inner = body[:end]
    if quote == "'":
        # Literal: `$$` keeps a literal dollar through the expansion that follows.
        return inner.replace("$", "$$"), i
    return _unescape(inner), i


def _closing_quote(body: str, quote: str) -> int:
    k = 0
    while k < len(body):
        if quote == '"' and body[k] == "\\":
            k += 2
            continue
        if body[k] == quote:
            return k
        k += 1
    return -1


def _unescape(inner: str) -> str:
    """Resolve backslash escapes; an escaped ``$`` becomes ``$$`` so expansion keeps it."""
    out: list[str] = []
    k = 0
    while k < len(inner):
        ch = inner[k]
        if ch == "\\" and k + 1 < len(inner):
            nxt = inner[k + 1]
            out.append("$$" if nxt == "$" else _ESCAPES.get(nxt, "\\" + nxt))
            k += 2
        else:
            out.append(ch)
            k += 1
    return "".join(out)
