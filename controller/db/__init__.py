"""The persistence layer: the only code that speaks SQL (and the only importer of ``sqlite3``).

``Database`` (``database.py``) opens the file, applies migrations (``schema.py``) and exposes one
repository per table, each in its own module: ``stacks``, ``stack_versions``, ``commands`` (the
durable queue), ``command_logs``, ``events``, ``blobs``, ``leases``, ``git_repositories``
(``stats`` is read-only, for metrics; ``retention`` deletes what its policy no longer keeps).
Repositories see the database only through ``access.DatabaseAccess``, so the imports run one
way: ``database`` -> repositories -> ``access``, ``rows``. Callers above never see a cursor, a
row or a ``sqlite3`` error (``faults.py`` classifies them): they get models and
``controller.errors`` types.
"""

from controller.db.database import Database
from controller.db.retention import CompactionResult, RetentionPolicy
from controller.db.rows import InvalidCursorError, Page

__all__ = ["CompactionResult", "Database", "InvalidCursorError", "Page", "RetentionPolicy"]
