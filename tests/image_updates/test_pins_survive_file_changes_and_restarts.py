"""The digests the image-update checker pinned survive the files: a restarted watcher reading the
unchanged manifest records nothing, an edit elsewhere in the stack keeps the pin, and changing
the tag (or pinning in the files) drops it, as the files now say something else."""

from __future__ import annotations

from pathlib import Path

import yaml

from controller.db import Database
from controller.models import StackMetadata
from controller.sources.pins import CREATED_BY, pin_digests
from controller.sources.versions import load_desired, record_and_enqueue
from controller.sources.watcher import Watcher

DIGEST = "sha256:" + "ab" * 32


def write(root: Path, image: str, value: str) -> None:
    doc = {"apiVersion": "stackctl/v1", "kind": "Stack", "metadata": {"name": "shop"},
           "spec": {"imageUpdates": {"policy": "apply"}, "compose": {"services": {
               "web": {"image": image, "environment": {"EDIT": value}},
               "db": {"image": "127.0.0.1:5000/db:16"}}}}}
    (root / "shop.yaml").write_text(yaml.safe_dump(doc))


def images(db: Database, version: str) -> dict[str, str]:
    desired = load_desired(db, db.stack_versions.require("shop", version))
    return {name: s.image for name, s in desired.compose.services.items()}


def test_the_checkers_pins_are_carried(tmp_path: Path):
    root = tmp_path / "manifests"
    root.mkdir()
    write(root, "127.0.0.1:5000/app:1", "a")
    with Database(db_path=tmp_path / "s.db") as db:
        Watcher(db, root).sync()
        pinned = pin_digests(load_desired(db, db.stack_versions.require("shop", "v1")),
                             {"web": DIGEST})
        record_and_enqueue(db, pinned, root=root, metadata=StackMetadata(created_by=CREATED_BY))

        Watcher(db, root).sync()  # a restart: the files did not change
        assert db.stack_versions.latest("shop").version == "v2"

        write(root, "127.0.0.1:5000/app:1", "b")  # an edit elsewhere
        Watcher(db, root).sync()
        assert db.stack_versions.latest("shop").version == "v3"
        assert images(db, "v3") == {"web": f"127.0.0.1:5000/app:1@{DIGEST}",
                                    "db": "127.0.0.1:5000/db:16"}

        write(root, "127.0.0.1:5000/app:2", "b")  # another tag: the pin was for :1
        Watcher(db, root).sync()
        assert images(db, "v4")["web"] == "127.0.0.1:5000/app:2"


def test_a_pin_the_files_wrote_is_not_carried_once_removed(tmp_path: Path):
    root = tmp_path / "manifests"
    root.mkdir()
    write(root, f"127.0.0.1:5000/app:1@{DIGEST}", "a")
    with Database(db_path=tmp_path / "s.db") as db:
        Watcher(db, root).sync()
        write(root, "127.0.0.1:5000/app:1", "a")
        Watcher(db, root).sync()
        assert images(db, "v2")["web"] == "127.0.0.1:5000/app:1"
