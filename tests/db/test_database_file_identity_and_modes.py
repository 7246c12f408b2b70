"""The database knows the file it holds open: deleted or replaced at its path, it says so
(``check_identity``). Its files are private: a state folder stackctl creates is 0700, the
database and its -wal/-shm 0600; folders and files that exist are left as they are, with a
warning when others can read them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from controller.db import Database
from controller.models.errors import PermanentError


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_same_file_passes(db: Database) -> None:
    db.check_identity()
    db.probe_write()
    db.check_identity()


def test_a_deleted_file_is_detected(db: Database, db_path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    with pytest.raises(PermanentError, match="was deleted or replaced while the controller ran"):
        db.check_identity()


def test_a_replaced_file_is_detected(db: Database, db_path: Path, tmp_path: Path) -> None:
    with Database(db_path=tmp_path / "other.db"):
        pass
    os.replace(tmp_path / "other.db", db_path)  # a restore copied over it, a new checkout
    with pytest.raises(PermanentError, match=str(db_path)):
        db.check_identity()


def test_created_folder_and_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "state" / "stackctl.db"
    old = os.umask(0o022)
    try:
        with Database(db_path=path) as db:
            db.probe_write()
            assert mode(path.parent) == 0o700
            for suffix in ("", "-wal", "-shm"):
                assert mode(Path(f"{path}{suffix}")) == 0o600, suffix
            assert db.permission_warnings() == []
    finally:
        os.umask(old)


def test_an_existing_folder_is_left_as_it_is_with_a_warning(tmp_path: Path) -> None:
    folder = tmp_path / "chosen"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    with Database(db_path=folder / "stackctl.db") as db:
        assert mode(folder) == 0o755
        assert mode(folder / "stackctl.db") == 0o600
        [warning] = db.permission_warnings()
    assert str(folder) in warning and "chmod 700" in warning
