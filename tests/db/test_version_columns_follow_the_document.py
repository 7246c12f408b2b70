"""Schema 12: a version's ``engine`` and ``suspend_declared`` columns say what its document says
(its ``x-stackctl`` settings' ``target.engine`` and ``suspend``), whoever reads them: written
with the row, filled by the migration for the rows already there, never changed afterwards."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from controller.db import Database
from controller.db.database import _statements
from controller.db.schema import MIGRATIONS, SCHEMA_VERSION
from controller.models import ComposeDefinition, Stack, StackVersion
from controller.sources.versions import SETTINGS_KEY, version_engine

SETTINGS: dict[str, dict[str, Any] | None] = {
    "plain": {},
    "edge": {"target": {"engine": "edge"}},
    "empty-engine": {"target": {"engine": ""}},
    "odd-engine": {"target": {"engine": 7}},
    "suspended": {"suspend": True},
    "resumed": {"suspend": False},
    "odd-suspend": {"suspend": "yes"},
    "both": {"suspend": True, "target": {"engine": "prod"}},
    "no-settings": None,
}


def document(settings: dict[str, Any] | None) -> ComposeDefinition:
    data: dict[str, Any] = {"services": {"app": {"image": "busybox"}}}
    if settings is not None:
        data[SETTINGS_KEY] = settings
    return ComposeDefinition.model_validate(data)


def expected(version: StackVersion) -> tuple[str, int]:
    settings = (version.compose.model_extra or {}).get(SETTINGS_KEY) or {}
    return version_engine(version), int(settings.get("suspend") is True)


def columns(path: Path) -> dict[str, tuple[str, int]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT stack_id, engine, suspend_declared FROM stack_versions")
        return {stack_id: (engine, declared) for stack_id, engine, declared in rows}
    finally:
        conn.close()


def test_columns_written_with_a_version_match_its_document(db_path: Path):
    with Database(db_path=db_path) as db:
        recorded = {}
        for name, settings in SETTINGS.items():
            db.stacks.create(Stack(stack_id=name, name=name))
            recorded[name] = db.stack_versions.create(
                StackVersion(stack_id=name, compose=document(settings))
            )
    assert columns(db_path) == {name: expected(v) for name, v in recorded.items()}


def test_the_migration_fills_the_columns_of_older_versions(tmp_path: Path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:11]:
        for statement in _statements(script):
            conn.execute(statement)
    now = "2026-01-01T00:00:00.000000Z"
    for name, settings in SETTINGS.items():
        conn.execute(
            "INSERT INTO stacks (stack_id, name, current_version, created_at, updated_at)"
            " VALUES (?, ?, 'v1', ?, ?)",
            (name, name, now, now),
        )
        conn.execute(
            "INSERT INTO stack_versions (stack_id, version_number, version, digest,"
            " compose_spec, metadata, created_at) VALUES (?, 1, 'v1', 'd', ?, '{}', ?)",
            (name, document(settings).canonical_json(), now),
        )
    conn.execute("PRAGMA user_version = 11")
    conn.close()
    with Database(db_path=path) as db:
        assert db.schema_version == SCHEMA_VERSION
        versions = {name: db.stack_versions.require(name, "v1") for name in SETTINGS}
        shown = {s.stack_id: s for s in db.stacks.list()}
    assert columns(path) == {name: expected(v) for name, v in versions.items()}
    assert {n for n, s in shown.items() if s.suspended} == {"suspended", "both"}


@pytest.mark.parametrize("change", ["engine = 'other'", "suspend_declared = 1"])
def test_the_columns_never_change(db: Database, db_path: Path, change: str):
    db.stacks.create(Stack(stack_id="shop", name="shop"))
    db.stack_versions.create(StackVersion(stack_id="shop", compose=document({})))
    with pytest.raises(sqlite3.IntegrityError, match="immutable"), db.transaction() as conn:
        conn.execute(f"UPDATE stack_versions SET {change}")
