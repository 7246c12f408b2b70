"""The persistence layer: the only code that speaks SQL (and the only importer of ``sqlite3``).

``Database`` opens the file, applies migrations and exposes one repository per table:
``stacks``, ``stack_versions``, ``commands`` (the durable queue), ``command_logs``, ``events``.
Callers above never see a cursor, a row or a ``sqlite3`` error: they get models and
``controller.errors`` types.
"""

from controller.db.database import Database
from controller.db.rows import InvalidCursorError, Page

__all__ = ["Database", "InvalidCursorError", "Page"]
