"""``stack_versions.mark_healthy`` / ``last_healthy``: the automatic rollback's target is the
newest version older than the failing one that was ever seen applied and Healthy."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from helpers.stacks import desired_stack

from controller.db import Database
from controller.sources.versions import record_version


def _record(db: Database, tmp: Path, tag: str) -> str:
    folder = tmp / tag
    version = record_version(
        db, desired_stack(folder, "shop", {"services": {"web": {"image": f"i:{tag}"}}}), root=tmp
    )
    assert version is not None and version.version is not None
    return version.version


def test_the_newest_healthy_version_before_the_failing_one(tmp_path: Path):
    db = Database(db_path=tmp_path / "s.db")
    labels = [_record(db, tmp_path, tag) for tag in ("1", "2", "3", "4")]
    assert labels == ["v1", "v2", "v3", "v4"]
    assert db.stack_versions.last_healthy("shop") is None
    at = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
    db.stack_versions.mark_healthy("shop", "v1", at=at)
    db.stack_versions.mark_healthy("shop", "v3", at=at)
    assert db.stack_versions.require("shop", "v3").healthy_at == at
    assert db.stack_versions.require("shop", "v2").healthy_at is None
    assert db.stack_versions.last_healthy("shop", before="v4").version == "v3"
    assert db.stack_versions.last_healthy("shop", before="v3").version == "v1"
    assert db.stack_versions.last_healthy("shop", before="v1") is None
    assert db.stack_versions.last_healthy("shop").version == "v3"
    assert db.stack_versions.last_healthy("other") is None
    db.close()
