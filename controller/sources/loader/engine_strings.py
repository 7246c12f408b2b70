"""No string that reaches the engine may hold a NUL byte.

The engine hands environment entries, labels, command arguments, host names, paths and
driver options on to C (execve, mount, netlink, /etc/hosts), where a NUL byte ends a
string; it refuses such a value only when it creates the container, network or volume. One
check covers every string of the canonical objects, keys included, so that a key supported
later needs no rule of its own; it looks at the canonical values because they are what the
runtime sends, and reports each at its canonical key path.

Walking every canonical value costs 4% of a load or more, so the walk runs only when a NUL is
possible at all. Every string of the canonical model comes from the interpolated document
(interpolation notes where it holds a NUL: ``ComposeContext.nul_strings``), from a variable
(env files expand them), from a file read as text (which refuses NUL bytes), or from the
loader itself. This module only reports; it must never change a value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel

from controller.sources.loader.context import ComposeContext
from controller.sources.loader.yamlmarks import KeyPath

_CREATED = {"networks": "network", "volumes": "volume"}  # services, secrets, configs: container


def report_nul_bytes(ctx: ComposeContext, sections: Mapping[str, Mapping[str, BaseModel]]) -> None:
    """An error for every key and value of ``sections`` (``{"services": {...}, ...}``) that
    holds a NUL byte, unless another check reported that key already."""
    if not ctx.nul_strings and not any("\0" in value for value in ctx.variables.values()):
        return
    for section, objects in sections.items():
        created = _CREATED.get(section, "container")
        for key, model in objects.items():
            for path, text, is_key in _nul_strings(model, (section, key)):
                if ctx.issues.has_error_at(path):
                    continue
                ctx.issues.error(
                    path,
                    f"this {'key' if is_key else 'value'} holds a NUL byte; "
                    f"the engine would refuse it when creating the {created}",
                    written=_written(ctx.nul_strings, path=path, text=text),
                )


def _nul_strings(value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, str, bool]]:
    """(key path, text, is it a key) of each string under ``value`` that holds a NUL byte."""
    if isinstance(value, str):
        if "\0" in value:
            yield path, value, False
    elif isinstance(value, BaseModel):
        for name, item in value.__dict__.items():
            yield from _nul_strings(item, (*path, name))
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and "\0" in key:
                yield (*path, key), key, True
            yield from _nul_strings(item, (*path, key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _nul_strings(item, (*path, i))


def _written(found: list[tuple[KeyPath, str]], *, path: KeyPath, text: str) -> KeyPath | None:
    """Where the file writes the text of a canonical ``path``, for the error's line: the
    canonical path may not be spelled in the file (list items are sorted, list-form entries
    keyed by name, a command string split). Of the NUL strings of the same object, the one
    containing the text, sharing the most of the path; None: the canonical path's own line."""
    scored = [
        (text in raw, _shared(written, path), written)
        for written, raw in found
        if _shared(written, path) >= 2
    ]
    if scored:
        return max(scored, key=lambda s: (s[0], s[1]))[2]
    if path[0] == "services" and path[2:3] == ("environment",):
        return (*path[:2], "env_file")  # not in the document: an env file's line expanded it
    return None


def _shared(a: KeyPath, b: KeyPath) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
