"""The API's JSON as the values the CLI's tables read: attributes instead of keys, times as
``datetime``s, a stack's ``deleted``.

The tables (``quick.STACKS``, ``history_table``, ``command_table``, ``describe_text``) read
attributes of models or of plain rows alike; a ``View`` is a third kind of the same, made from
the JSON the API answers (the models' ``model_dump(mode="json")``), so that a table printed
through the API is the table printed from the local database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

# Keys holding a time (ISO 8601, as the API writes them).
_TIMES = frozenset({"ts", "at", "not_before", "lease_expires_at"})


class View:
    """One JSON object with its keys as attributes (nested objects as ``View``s too); a key
    missing from the JSON reads ``None``."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.__dict__.update({key: _value(key, value) for key, value in data.items()})
        self.__dict__["_data"] = data

    def __getattr__(self, name: str) -> Any:  # only for attributes not set above
        if name.startswith("__"):
            raise AttributeError(name)
        return None

    @property
    def deleted(self) -> bool:
        """A stack's: no desired and no applied version (``Stack.deleted``)."""
        return self._data.get("current_version") is None and (
            self._data.get("applied_version") is None
        )


def _value(key: str, value: Any) -> Any:
    if isinstance(value, dict):
        return View(value)
    if isinstance(value, str) and (key in _TIMES or key.endswith("_at")):
        return parse_time(value)
    return value


def parse_time(text: str) -> datetime | str:
    """An ISO 8601 time as a ``datetime`` (the text itself when it is not one)."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text


def views(items: list[dict[str, Any]]) -> list[View]:
    return [View(item) for item in items]
