"""What ``stackctl describe STACK`` reads from the database, as plain values (no models): for
the CLI's quick ``describe`` (``cli/quick_describe.py``), as ``plain_reads`` does for ``get
stacks`` and ``history``.

The same rows ``describe`` reads through the repositories (the stack, its latest version, its
desired one, the engine its applied one targets, its last five commands and ten events), read
in one transaction. ``None`` where this view does not vouch for what the models would make of
a row (metadata, a compose document's ``services`` or ``version``, a status, a time not as
stackctl writes them): the caller then opens ``Database``, which says what is wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from controller.db.plain_reads import (
    STACK_QUERY,
    MetadataView,
    StackView,
    engine_sql,
    metadata_view,
    read_queries,
    stack_view,
)
from controller.models.enums import CommandStatus, CommandType, LogLevel


@dataclass(frozen=True)
class DesiredView:
    """The desired version as ``describe`` reads it: its label and metadata (what
    ``stack_conditions`` reads as ``current``) and its services, sorted."""

    version: str
    metadata: MetadataView
    services: list[str]


@dataclass(frozen=True)
class CommandView:
    """The fields of ``controller.models.Command`` that ``describe`` shows."""

    command_id: int
    type: str
    status: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    error: str | None


@dataclass(frozen=True)
class EventView:
    """The fields of ``controller.models.Event`` that ``describe`` shows."""

    ts: datetime
    level: str
    reason: str
    message: str


@dataclass(frozen=True)
class StackDetails:
    """``describe``'s ``_details`` and the engine it looks on, as plain values."""

    stack: StackView
    latest_version: str | None
    latest_metadata: MetadataView | None
    desired: DesiredView | None
    applied_engine: str | None  # the engine the applied version targets (None: no such row)
    commands: list[CommandView]
    events: list[EventView]


_LATEST = (
    "SELECT version, metadata FROM stack_versions WHERE stack_id = ?"
    " ORDER BY version_number DESC LIMIT 1"
)
_DESIRED = (
    "SELECT v.version, v.metadata, json_type(v.compose_spec, '$.services'),"
    " (SELECT json_group_array(key) FROM json_each(v.compose_spec, '$.services')),"
    " json_type(v.compose_spec, '$.version')"
    " FROM stacks s JOIN stack_versions v"
    " ON v.stack_id = s.stack_id AND v.version = s.current_version WHERE s.stack_id = ?"
)
_APPLIED_ENGINE = (
    f"SELECT {engine_sql('v')} FROM stacks s LEFT JOIN stack_versions v"
    " ON v.stack_id = s.stack_id AND v.version = s.applied_version WHERE s.stack_id = ?"
)
_COMMANDS = (
    "SELECT command_id, type, status, created_at, started_at, ended_at, error FROM commands"
    " WHERE stack_id = ? ORDER BY command_id DESC LIMIT 5"
)
_EVENTS = (
    "SELECT ts, level, reason, message FROM events WHERE stack_id = ?"
    " ORDER BY event_id DESC LIMIT 10"
)


class _Unvouched(Exception):
    """A row this view does not vouch for: ``Database`` and the models read it instead."""


def stack_details(path: Path, stack_id: str) -> StackDetails | None:
    """The stack's details, or ``None`` when there is no such stack or ``Database`` must read
    them instead."""
    queries = [STACK_QUERY, _LATEST, _DESIRED, _APPLIED_ENGINE, _COMMANDS, _EVENTS]
    found = read_queries(path, [(sql, (stack_id,)) for sql in queries])
    if found is None or not found[0]:
        return None
    stack, latest, desired, applied, commands, events = found
    try:
        return StackDetails(
            stack=stack_view(stack[0]),
            latest_version=latest[0][0] if latest else None,
            latest_metadata=_vouched(latest[0][1]) if latest else None,
            desired=_desired(desired[0]) if desired else None,
            applied_engine=applied[0][0] if applied else None,
            commands=[_command(row) for row in commands],
            events=[_event(row) for row in events],
        )
    except (_Unvouched, ValueError, TypeError):
        return None


def _vouched(document: str) -> MetadataView:
    shown = metadata_view(document)
    if shown is None:
        raise _Unvouched
    return shown


def _desired(row: tuple) -> DesiredView:
    version, metadata, kind, services, compose_version = row
    if kind not in (None, "object") or compose_version not in (None, "null", "text"):
        raise _Unvouched  # ComposeDefinition would not read it as describe shows it
    return DesiredView(version, _vouched(metadata), sorted(json.loads(services)))


_COMMAND_TYPES = frozenset(CommandType)
_COMMAND_STATUSES = frozenset(CommandStatus)
_LEVELS = frozenset(LogLevel)


def _command(row: tuple) -> CommandView:
    command_id, type_, status, created, started, ended, error = row
    if type_ not in _COMMAND_TYPES or status not in _COMMAND_STATUSES:
        raise _Unvouched
    if not isinstance(command_id, int) or not (error is None or isinstance(error, str)):
        raise _Unvouched
    created_at = _moment(created)
    if created_at is None:
        raise _Unvouched
    return CommandView(
        command_id, type_, status, created_at, _moment(started), _moment(ended), error
    )


def _event(row: tuple) -> EventView:
    ts, level, reason, message = row
    moment = _moment(ts)
    if moment is None or level not in _LEVELS:
        raise _Unvouched
    if not isinstance(reason, str) or not isinstance(message, str):
        raise _Unvouched
    return EventView(moment, level, reason, message)


def _moment(text: object) -> datetime | None:
    """A stored time as ``rows.ts_from_db`` reads stackctl's ``...Z`` form; another form is
    not vouched for."""
    if text is None:
        return None
    if not isinstance(text, str) or not text.endswith("Z"):
        raise _Unvouched
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
