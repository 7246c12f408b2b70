"""Migrations run on open, once; a file from a newer stackctl is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from controller.db import Database
from controller.db import database as database_module
from controller.db.schema import SCHEMA_VERSION
from controller.models import Stack
from controller.models.errors import PermanentError, SchemaVersionError


def test_reopening_keeps_data_and_version(db_path: Path):
    with Database(db_path=db_path) as db:
        db.stacks.create(Stack(stack_id="shop", name="shop"))
    with Database(db_path=db_path) as db:
        assert db.stacks.require("shop").name == "shop"
        assert db.schema_version == SCHEMA_VERSION


def test_a_newer_schema_is_refused_with_a_message(db_path: Path):
    Database(db_path=db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaVersionError, match="written by a newer stackctl"):
        Database(db_path=db_path)


def test_pending_migrations_apply_in_order(db_path: Path, monkeypatch: pytest.MonkeyPatch):
    Database(db_path=db_path).close()
    extra = "CREATE TABLE later_feature (id INTEGER PRIMARY KEY);"
    monkeypatch.setattr(database_module, "MIGRATIONS", (*database_module.MIGRATIONS, extra))
    monkeypatch.setattr(database_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with Database(db_path=db_path) as db:
        assert db.schema_version == SCHEMA_VERSION + 1
        with db.reading() as conn:
            conn.execute("SELECT * FROM later_feature")


def test_a_failing_migration_leaves_the_file_as_it_was(db_path: Path, monkeypatch):
    Database(db_path=db_path).close()
    broken = "CREATE TABLE half_done (id INTEGER); INSERT INTO nowhere VALUES (1);"
    monkeypatch.setattr(database_module, "MIGRATIONS", (*database_module.MIGRATIONS, broken))
    monkeypatch.setattr(database_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(
        PermanentError, match=r"migration to schema version .* failed: no such table"
    ):
        Database(db_path=db_path)
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert (
        conn.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchone() is None
    )
