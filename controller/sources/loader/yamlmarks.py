"""Where every key and item of a YAML document was written: the mapping and list types the
loader builds (each knows its lines and how large it expands) and ``Marks``, the line of a key
path, found when an error message needs one.
"""

from __future__ import annotations

from typing import Any

KeyPath = tuple[str | int, ...]


class MarkedDict(dict[str, Any]):
    """A mapping that knows the 1-based line of each of its keys, and its extent: ``size``
    (values once aliases are expanded, itself included) and ``height`` (levels below it)."""

    __slots__ = ("height", "key_lines", "line", "size")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[str, int] = {}
        self.size = 1
        self.height = 0


class MarkedList(list[Any]):
    """A sequence that knows the 1-based line of each item, and its extent (as ``MarkedDict``)."""

    __slots__ = ("height", "item_lines", "line", "size")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []
        self.size = 1
        self.height = 0


def extent(values: Any) -> tuple[int, int]:
    """(size, height) of a container holding ``values``; nested ones carry their own."""
    size, height = 1, 0
    for value in values:
        kind = value.__class__
        if kind is MarkedDict or kind is MarkedList:
            size += value.size
            if value.height >= height:
                height = value.height + 1
        else:
            size += 1
            if not height:
                height = 1
    return size, height


class Marks:
    """Line numbers by key path, found in the data when a message asks (most loads ask for
    none); a path without its own mark falls back to its nearest parent."""

    def __init__(self, data: Any) -> None:
        self._data = data

    def line(self, path: KeyPath) -> int | None:
        value = self._data
        if not isinstance(value, MarkedDict | MarkedList):
            return None
        line = value.line
        for part in path:
            if isinstance(value, MarkedDict) and isinstance(part, str):
                found = value.key_lines.get(part)
            elif isinstance(value, MarkedList) and isinstance(part, int) and 0 <= part < len(value):
                found = value.item_lines[part]
            else:
                found = None
            if found is None:
                break
            line, value = found, value[part]
        return line
