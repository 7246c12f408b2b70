"""A version recorded with delivery settings (``spec.rollback``, ``spec.timeout``, ``notify``,
``imageUpdates``) reads back equal, digest included: the automatic rollback reads them from the
stored version. Before, they were dropped on the way in and every such version read back as
"does not match its digest (corrupted record)"."""

from __future__ import annotations

from pathlib import Path

from helpers.stacks import desired_stack

from controller.db import Database
from controller.sources.versions import load_desired, record_version


def test_delivery_settings_survive_recording(tmp_path: Path):
    desired = desired_stack(
        tmp_path,
        "shop",
        {"services": {"web": {"image": "i:1"}}},
        rollback={"onFailure": True},
        timeout="5s",
        notify=[{"url": "json://127.0.0.1:1/hook", "events": ["rollback"]}],
        imageUpdates={"policy": "notify"},
    )
    db = Database(db_path=tmp_path / "s.db")
    version = record_version(db, desired, root=tmp_path)
    assert version is not None
    back = load_desired(db, version)
    assert back.digest == desired.digest
    assert (back.rollback.on_failure, back.timeout) == (True, 5.0)
    assert back.notify == desired.notify and back.image_updates == desired.image_updates
    db.close()


def test_a_stack_without_them_keeps_its_digest(tmp_path: Path):
    desired = desired_stack(tmp_path, "shop", {"services": {"web": {"image": "i:1"}}})
    db = Database(db_path=tmp_path / "s.db")
    version = record_version(db, desired, root=tmp_path)
    assert version is not None
    assert "rollback" not in version.compose.model_dump()["x-stackctl"]
    assert load_desired(db, version).digest == desired.digest
    db.close()
