"""Compose variable interpolation, as the Compose Specification defines it.

Supported: ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}``,
``${VAR?error}``, ``${VAR:+alternative}``, ``${VAR+alternative}``, nested expressions in the
default/error/alternative part (evaluated only when used, as in a shell; at most 32 levels
deep, deeper is an error rather than a stack overflow), and ``$$`` for a
literal ``$``. A ``$`` not followed by a name or ``{`` stays as it is (``$1``, ``50$``).
Interpolation applies to values, never to mapping keys.

Where variables come from (a deliberate choice): ``spec.env`` of the Stack manifest, then the
env file (``spec.envFile``, or the ``.env`` beside the compose file), then nothing. The
controller's own process environment is never read: a desired state must be reproducible from
the files alone, and the same files must give the same digest on every host and after every
restart. An unset variable without a default becomes an empty string and a warning.

This module must never read files or the environment; it is handed its variables.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from controller.sources.loader.issues import Issues
from controller.sources.loader.yamlmarks import KeyPath

_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")
_INERT = frozenset({int, float, bool, type(None)})  # values interpolation leaves as they are
MAX_NESTING = 32  # `${A:-${B:-...}}` levels; deeper is refused (a nesting level is a call)


class InterpolationError(Exception):
    """A malformed expression, or a required variable (``${X:?msg}``) without a value."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class Interpolator:
    """Expands strings against fixed variables; remembers names used while unset."""

    def __init__(self, variables: Mapping[str, str]) -> None:
        self.variables = variables
        self.unset: list[str] = []

    def expand(self, text: str) -> str:
        out: list[str] = []
        i, n = 0, len(text)
        while i < n:
            j = text.find("$", i)
            if j < 0:
                out.append(text[i:])
                break
            out.append(text[i:j])
            nxt = text[j + 1] if j + 1 < n else ""
            if nxt == "$":
                out.append("$")
                i = j + 2
            elif nxt == "{":
                value, i = self._braced(text, j + 2)
                out.append(value)
            elif match := _NAME.match(text, j + 1):
                out.append(self._lookup(match.group()))
                i = match.end()
            else:
                out.append("$")
                i = j + 1
        return "".join(out)

    def _lookup(self, name: str) -> str:
        value = self.variables.get(name)
        if value is None:
            self.unset.append(name)
            return ""
        return value

    def _braced(self, text: str, start: int) -> tuple[str, int]:
        match = _NAME.match(text, start)
        if not match:
            raise InterpolationError(f"invalid interpolation format in {_cut(text)}")
        name, i = match.group(), match.end()
        if text.startswith("}", i):
            return self._lookup(name), i + 1
        op = next((op for op in _OPERATORS if text.startswith(op, i)), None)
        if op is None:
            raise InterpolationError(f"invalid interpolation format in {_cut(text)}")
        end, depth = _closing_brace(text, i + len(op))
        if end < 0:
            raise InterpolationError(f"unclosed `${{` in {_cut(text)}")
        if depth > MAX_NESTING:
            # Each level is a nested call here: refuse before Python's stack runs out.
            raise InterpolationError(
                f"expressions nested more than {MAX_NESTING} levels deep in {_cut(text)}"
            )
        argument = text[i + len(op) : end]
        return self._apply(name, op, argument=argument), end + 1

    def _apply(self, name: str, op: str, *, argument: str) -> str:
        value = self.variables.get(name)
        empty = not value  # unset or set to ""
        unset = value is None
        if op == ":-":
            return self.expand(argument) if empty else str(value)
        if op == "-":
            return self.expand(argument) if unset else str(value)
        if op == ":+":
            return "" if empty else self.expand(argument)
        if op == "+":
            return "" if unset else self.expand(argument)
        if (op == ":?" and empty) or (op == "?" and unset):
            detail = self.expand(argument)
            message = f"required variable `{name}` is missing a value"
            raise InterpolationError(f"{message}: {detail}" if detail else message)
        return str(value)


def _closing_brace(text: str, start: int) -> tuple[int, int]:
    """The index of the ``}`` closing the expression whose argument starts at ``start`` (-1
    when unclosed), and how deep ``${`` nest inside that argument."""
    depth, deepest, k, n = 0, 0, start, len(text)
    while k < n:
        if text.startswith("$$", k):
            k += 2
            continue
        if text.startswith("${", k):
            depth += 1
            deepest = max(deepest, depth)
            k += 2
            continue
        if text[k] == "}":
            if depth == 0:
                return k, deepest
            depth -= 1
        k += 1
    return -1, deepest


def _cut(text: str) -> str:
    """A value for a message: long ones are cut, so that one error stays one line."""
    return repr(text if len(text) <= 60 else text[:60] + "...")


def interpolate_tree(
    value: Any,
    *,
    variables: Mapping[str, str],
    issues: Issues,
    path: KeyPath = (),
    nul: list[tuple[KeyPath, str]] | None = None,
) -> Any:
    """A copy of ``value`` with every string value expanded; keys are left alone.

    Errors are recorded at the key path of the string (its raw text is kept so that later
    checks still see something); each unset variable is warned about once per document.

    ``nul`` receives the key path and text of every key and expanded value holding a NUL
    byte. This walk visits every string of the document anyway, so noting them here is
    nearly free; walking the document again for them would cost a few percent of a load
    (``engine_strings`` explains what the paths are for).
    """
    warned: set[str] = set()
    found: list[tuple[KeyPath, str]] = [] if nul is None else nul
    return _walk(value, Interpolator(variables), issues=issues, path=path, warned=warned, nul=found)


def _walk(
    value: Any,
    interp: Interpolator,
    *,
    issues: Issues,
    path: KeyPath,
    warned: set[str],
    nul: list[tuple[KeyPath, str]],
) -> Any:
    if isinstance(value, dict):
        for k in value:
            if isinstance(k, str) and "\0" in k:
                nul.append(((*path, k), k))
        out = {}
        for k, v in value.items():
            # Most values are numbers or text with nothing to expand or note: as they are,
            # without building a key path for them.
            if v.__class__ in _INERT or (v.__class__ is str and "$" not in v and "\0" not in v):
                out[k] = v
            else:
                out[k] = _walk(v, interp, issues=issues, path=(*path, k), warned=warned, nul=nul)
        return out
    if isinstance(value, list):
        return [
            v
            if v.__class__ in _INERT or (v.__class__ is str and "$" not in v and "\0" not in v)
            else _walk(v, interp, issues=issues, path=(*path, i), warned=warned, nul=nul)
            for i, v in enumerate(value)
        ]
    if not isinstance(value, str):
        return value
    if "$" in value:
        value = _expand(value, interp, issues=issues, path=path, warned=warned)
    if "\0" in value:
        nul.append((path, value))
    return value


def _expand(
    value: str, interp: Interpolator, *, issues: Issues, path: KeyPath, warned: set[str]
) -> str:
    try:
        result = interp.expand(value)
    except InterpolationError as e:
        issues.value_error(path, e.message)
        return value
    for name in interp.unset:
        if name not in warned:
            warned.add(name)
            issues.warn(path, f"variable `{name}` is not set; using an empty string")
    interp.unset.clear()
    return result
