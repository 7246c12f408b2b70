"""The persistence layer: the only code that speaks SQL (and the only importer of ``sqlite3``).

``Database`` (``database.py``) opens the file, applies migrations (``schema.py``) and exposes one
repository per table, each in its own module: ``stacks``, ``stack_versions``, ``commands`` (the
durable queue), ``command_logs``, ``events``, ``blobs``, ``leases``, ``git_repositories``,
``console_sessions`` (the web console's sign-ins), ``stack_table`` (its table of stacks, a
page at a time) (``stats`` reads the metrics' aggregates, and keeps, in ``retired_totals``,
those of the rows ``retention`` deletes when its policy no longer keeps them, so that counters
never go down).
Repositories see the database only through ``access.DatabaseAccess``, so the imports run one
way: ``database`` -> repositories -> ``access``, ``rows``. Callers above never see a cursor, a
row or a ``sqlite3`` error (``faults.py`` classifies them): they get models and
``controller.models.errors`` types. ``views`` reads a few lists as plain values (no models) for the
command line's one-shot reads.

The names below are loaded on first use (PEP 562), as in ``controller.models``: importing
``controller.db.plain_reads`` loads neither the repositories nor pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from controller.db.database import Database
    from controller.db.retention import CompactionResult, RetentionPolicy
    from controller.db.rows import InvalidCursorError, Page

_HOMES = {
    "CompactionResult": "retention",
    "Database": "database",
    "InvalidCursorError": "rows",
    "Page": "rows",
    "RetentionPolicy": "retention",
}

__all__ = ["CompactionResult", "Database", "InvalidCursorError", "Page", "RetentionPolicy"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
