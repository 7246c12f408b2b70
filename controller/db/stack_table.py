"""``StackTableRepository``: the web console's table of stacks, read a page at a time.

With 10,000 stacks the console cannot build every row to show a hundred: the counts (over
every stack that is not deleted) are one aggregate, and the page is one ``LIMIT``/``OFFSET``
query in the table's stable order (by name), filtered in SQL by the status filters below.
They are the rules of ``controller.web.console.views.StackRow.matches`` (synced: Synced and
applied == desired; out of sync: neither synced nor suspended; degraded and failed; suspended
by either hand; pinned) on the stack *as read* (``suspension``): a test holds the two equal.

Each row carries its ``stamp``: the newest of its own change (``updated_at``) and of its latest
version (``created_at``); ``stamp()`` is the newest of all. A page shown at stamp S is brought
up to date by re-sending its rows whose stamp is after S ("changed since" S).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from controller.db.stacks import _stack
from controller.db.suspension import HEALTH, STACK_COLUMNS, STACK_FROM, SUSPENDED, SYNC
from controller.models.stack import Stack
from controller.models.stack_version import VersionOrigin

if TYPE_CHECKING:
    from controller.db.access import DatabaseAccess

_SYNCED = f"({SYNC} = 'Synced' AND s.applied_version IS s.current_version)"
_NOT_DELETED = "NOT (s.current_version IS NULL AND s.applied_version IS NULL)"

# The console's status filter (its value in the URL) -> the SQL condition it keeps.
STATUS_FILTERS: dict[str, str] = {
    "": "1",
    "synced": _SYNCED,
    "out-of-sync": f"(NOT {_SYNCED} AND NOT {SUSPENDED})",
    "degraded": f"({HEALTH} = 'Degraded')",
    "failed": "(s.last_error IS NOT NULL)",
    "suspended": SUSPENDED,
    "pinned": "(s.pinned = 1)",
}
# The counts the table shows, by the same conditions.
_COUNTED = ("synced", "out-of-sync", "suspended", "degraded", "failed")

# The stack's latest version (none: NULL columns), joined for the page's rows only.
_LATEST = (
    " LEFT JOIN stack_versions lv ON lv.stack_id = s.stack_id AND lv.version_number ="
    " (SELECT max(version_number) FROM stack_versions WHERE stack_id = s.stack_id)"
)
_LATEST_COLUMNS = (
    "lv.version AS latest_version,"
    " json_extract(lv.metadata, '$.source') AS latest_source,"
    " json_extract(lv.metadata, '$.git_repository') AS latest_repository,"
    " json_extract(lv.metadata, '$.git_ref') AS latest_ref,"
    " json_extract(lv.metadata, '$.git_commit') AS latest_commit,"
    " max(s.updated_at, ifnull(lv.created_at, '')) AS stamp"
)


@dataclass(frozen=True)
class TableRow:
    stack: Stack
    latest: VersionOrigin | None  # its latest version (None: it has none)
    stamp: str  # the newest of its change and its latest version's recording


@dataclass(frozen=True)
class TablePage:
    counts: dict[str, int]  # "total" and each of ``_COUNTED``, over every stack not deleted
    matched: int  # the stacks the filter keeps
    rows: list[TableRow]  # those of the page asked for, by name


class StackTableRepository:
    def __init__(self, db: DatabaseAccess) -> None:
        self._db = db

    def stamp(self) -> str:
        """The newest change of any stack or version ('' with none): the table's cursor."""
        with self._db.reading() as conn:
            row = conn.execute(
                "SELECT max(ifnull((SELECT max(updated_at) FROM stacks), ''),"
                " ifnull((SELECT max(created_at) FROM stack_versions), '')) AS stamp"
            ).fetchone()
        return str(row["stamp"])

    def page(
        self,
        *,
        status: str,
        query: str,
        offset: int,
        limit: int,
        only: Collection[str] | None = None,
    ) -> TablePage:
        """The counts, how many stacks ``status`` (a key of ``STATUS_FILTERS``; unknown: all)
        and ``query`` (a part of the name, any case) keep, and ``limit`` of them from
        ``offset`` (a page past the end is empty). ``only``: the stacks the viewer may read
        (``None``: every one); counts and pages are over those alone."""
        kept = f"{STATUS_FILTERS.get(status, '1')} AND instr(lower(s.stack_id), ?) > 0"
        shown, scope = _NOT_DELETED, ()
        if only is not None:
            shown = f"{_NOT_DELETED} AND s.stack_id IN (SELECT value FROM json_each(?))"
            scope = (json.dumps(sorted(only)),)
        sums = ", ".join(f'ifnull(sum({STATUS_FILTERS[name]}), 0) AS "{name}"' for name in _COUNTED)
        with self._db.reading() as conn:
            totals = conn.execute(
                f"SELECT count(*) AS total, {sums}, ifnull(sum({kept}), 0) AS matched"
                f" FROM {STACK_FROM} WHERE {shown}",
                (query.lower(), *scope),
            ).fetchone()
            rows = conn.execute(
                f"SELECT {STACK_COLUMNS}, {_LATEST_COLUMNS} FROM {STACK_FROM}{_LATEST}"
                f" WHERE {shown} AND {kept} ORDER BY s.stack_id LIMIT ? OFFSET ?",
                (*scope, query.lower(), max(limit, 0), max(offset, 0)),
            ).fetchall()
        counts = {name: int(totals[name]) for name in ("total", *_COUNTED)}
        return TablePage(counts, int(totals["matched"]), [_row(row) for row in rows])


def _row(row: sqlite3.Row) -> TableRow:
    latest = None
    if row["latest_version"] is not None:
        latest = VersionOrigin(
            row["latest_version"],
            row["latest_source"],
            row["latest_repository"],
            row["latest_ref"],
            row["latest_commit"],
        )
    return TableRow(_stack(row), latest, str(row["stamp"]))
