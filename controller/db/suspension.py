"""How a stack's row reads: its status as shown, whoever suspended it. SQL text only.

A stack is suspended by the operator (``stackctl suspend``: the row's ``suspended`` flag) or by
its desired version (``spec.suspend: true``, kept in the version's ``x-stackctl`` settings).
Both read alike everywhere (the repository's models, the command line's plain rows, the
metrics' counts): suspended, and sync and health ``Suspended``, since nobody compares a
suspended stack with the engine (the resync leaves it alone). The row keeps what was last
observed, so nothing is written when a stack is suspended or resumed by its manifest, and
``Suspended`` is never stored as a sync status (the schema's CHECK refuses it).
"""

from __future__ import annotations

# The stack's desired version, joined (a LEFT JOIN: a stack may have none), through the index
# that holds all a listing reads of it (schema 12), never its row.
STACK_FROM = (
    "stacks s LEFT JOIN stack_versions v INDEXED BY idx_stack_versions_shown"
    " ON v.stack_id = s.stack_id AND v.version = s.current_version"
)
# 1 when the desired version says ``spec.suspend: true``, else 0 (also with no version): its
# ``suspend_declared`` column (schema 12), read from the document when the row was written.
DECLARED = "(v.suspend_declared IS 1)"
SUSPENDED = f"(s.suspended = 1 OR {DECLARED})"
SYNC = f"CASE WHEN {SUSPENDED} THEN 'Suspended' ELSE s.sync_status END"
HEALTH = f"CASE WHEN {SUSPENDED} THEN 'Suspended' ELSE s.health_status END"

# A stack's columns as read, by the names of the ``stacks`` table (``suspended``: the
# operator's flag) and ``suspend_declared`` (the manifest's).
STACK_COLUMNS = (
    "s.stack_id, s.name, s.current_version, s.applied_version,"
    f" {SYNC} AS sync_status, {HEALTH} AS health_status, s.suspended,"
    f" {DECLARED} AS suspend_declared, s.pinned, s.last_error, s.created_at, s.updated_at"
)

# What the metrics count stacks by (``StatsRepository.stacks_by``), as read.
SHOWN = {
    "sync_status": SYNC,
    "health_status": HEALTH,
    "suspended": f"CAST({SUSPENDED} AS INTEGER)",
    "pinned": "s.pinned",
}
