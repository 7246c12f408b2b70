"""``AuditRepository``: the audit log, append-only, newest first.

``record`` joins the caller's transaction when there is one (``Database.transaction`` nests by
joining): a change and the entry saying who made it commit together or not at all. Nothing
updates an entry (a trigger refuses it) and nothing deletes one but ``prune``, which retention
calls with its own age (``--audit-days``): the API has no route that deletes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any

from controller.db.rows import Page, decode_cursor, encode_cursor, ts_from_db, ts_to_db
from controller.models.audit import AuditEntry, AuditResult, Surface

if TYPE_CHECKING:
    from controller.db.access import DatabaseAccess

_COLUMNS = (
    "at, who, who_kind, via, surface, action, stack_id, version, command_id, address, result,"
    " detail"
)


class AuditRepository:
    def __init__(self, db: DatabaseAccess) -> None:
        self._db = db

    def record(self, entry: AuditEntry) -> AuditEntry:
        """Append ``entry`` (its ``at``: now, unless given) in the current transaction."""
        at = entry.at or self._db.clock()
        with self._db.transaction() as conn:
            cursor = conn.execute(
                f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    ts_to_db(at),
                    entry.who,
                    entry.who_kind,
                    entry.via,
                    entry.surface.value,
                    entry.action,
                    entry.stack_id,
                    entry.version,
                    entry.command_id,
                    entry.address,
                    entry.result.value,
                    entry.detail,
                ),
            )
        return _replace(entry, at=at, entry_id=cursor.lastrowid)

    def list(
        self,
        *,
        stack_id: str | None = None,
        who: str | None = None,
        since: datetime | None = None,
        stacks: Collection[str] | None = None,
        stackless: bool = True,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[AuditEntry]:
        """Newest first. ``stacks``: only entries of these stacks (``None``: any), plus those
        of no stack when ``stackless`` (what a person limited to some stacks may not see)."""
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("stack_id", stack_id), ("who", who)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            clauses.append("at >= ?")
            params.append(ts_to_db(since))
        if stacks is not None:
            marks = ", ".join("?" * len(stacks))
            scope = f"stack_id IN ({marks})" if stacks else "0"
            clauses.append(f"({scope} OR stack_id IS NULL)" if stackless else scope)
            params.extend(stacks)
        elif not stackless:
            clauses.append("stack_id IS NOT NULL")
        if cursor is not None:
            clauses.append("entry_id < ?")
            params.append(decode_cursor(cursor))
        where = " AND ".join(clauses) or "1 = 1"
        with self._db.reading() as conn:
            rows = conn.execute(
                f"SELECT * FROM audit_log WHERE {where} ORDER BY entry_id DESC LIMIT ?",
                (*params, limit + 1),
            ).fetchall()
        items = [_entry(row) for row in rows[:limit]]
        more = len(rows) > limit and bool(items)
        return Page(items, encode_cursor(rows[limit - 1]["entry_id"]) if more else None)

    def prune(self, older_than: datetime) -> int:
        """Delete the entries recorded before ``older_than`` (retention); how many."""
        with self._db.transaction() as conn:
            cursor = conn.execute("DELETE FROM audit_log WHERE at < ?", (ts_to_db(older_than),))
        return cursor.rowcount


def _entry(row: sqlite3.Row) -> AuditEntry:
    return AuditEntry(
        who=row["who"],
        who_kind=row["who_kind"],
        surface=Surface(row["surface"]),
        action=row["action"],
        result=AuditResult(row["result"]),
        stack_id=row["stack_id"],
        version=row["version"],
        command_id=row["command_id"],
        address=row["address"],
        via=row["via"],
        detail=row["detail"],
        at=ts_from_db(row["at"]),
        entry_id=row["entry_id"],
    )


def _replace(entry: AuditEntry, **changes: Any) -> AuditEntry:
    from dataclasses import replace

    return replace(entry, **changes)
