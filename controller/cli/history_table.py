"""``stackctl history``'s table and ``get versions``' listing (``VERSIONS``): their columns and
a row per version, the same from the models (``queries.py``) and from plain rows (``quick.py``,
before typer), so the two print alike.

Reads attributes only (``version``, ``parent_version``, ``digest``, ``status``, ``metadata``'s
``created_at``, ``created_by``, ``source``, ``comment``, ``git_*``; the stack's
``current_version`` and ``applied_version``): ``controller.models`` or
``controller.db.plain_reads`` values alike.
"""

from __future__ import annotations

from typing import Any

from controller.cli.listing import Listing
from controller.cli.output import age, short, timestamp

COLUMNS = ["VERSION", "PARENT", "DIGEST", "STATUS", "MARK", "CREATED", "BY", "COMMENT", "COMMIT"]


def rows(stack: Any, versions: list[Any]) -> list[list[object]]:
    """One row per version, oldest first as given."""
    return [
        [
            v.version,
            v.parent_version,
            (v.digest or "")[:12],
            v.status,
            marks(stack, v.version),
            timestamp(v.metadata.created_at),
            v.metadata.created_by,
            short(v.metadata.comment or v.metadata.git_subject, 50),
            commit(v.metadata),
        ]
        for v in versions
    ]


def commit(metadata: Any) -> str:
    """``abc123def0``, or ``infra:main@abc123def0`` for a version read from a repository."""
    found = (metadata.git_commit or "")[:10]
    if metadata.git_repository is None:
        return found
    return f"{metadata.git_repository}:{metadata.git_ref}@{found}"


def marks(stack: Any, version: str | None) -> str:
    found = [
        mark
        for mark, label in (("current", stack.current_version), ("applied", stack.applied_version))
        if label == version
    ]
    return ",".join(found)


VERSIONS = Listing(
    kind="version",
    columns=["VERSION", "STATUS", "DIGEST", "CREATED BY", "SOURCE", "AGE"],
    row=lambda v: [
        v.version,
        v.status,
        (v.digest or "")[:12],
        v.metadata.created_by,
        v.metadata.source,
        age(v.metadata.created_at),
    ],
    name=lambda v: v.version,
    wide_columns=["PARENT", "COMMENT", "COMMIT"],
    wide_row=lambda v: [
        v.parent_version,
        v.metadata.comment or v.metadata.git_subject,
        commit(v.metadata),
    ],
)
