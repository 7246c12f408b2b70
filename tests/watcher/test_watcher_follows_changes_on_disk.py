"""The watch loop on a real directory (watchfiles), no engine: edits, a burst, and a root that is
a symlink swapped atomically to a new release folder."""

from __future__ import annotations

import json
import logging
import os
import threading

from helpers.controller_process import wait_for

from controller.config.logs import JsonFormatter
from controller.db import Database
from controller.sources.watcher import Watcher


def manifest(name: str, image: str) -> str:
    return (
        f"apiVersion: stackctl/v1\nkind: Stack\nmetadata:\n  name: {name}\nspec:\n"
        f"  compose:\n    services:\n      web:\n        image: {image}\n"
    )


def watching(watcher: Watcher):
    stop = threading.Event()
    thread = threading.Thread(target=watcher.watch, args=(stop,), daemon=True)
    thread.start()
    wait_for(watcher.alive.is_set, what="the watcher", timeout=10)
    return stop, thread


def images(db: Database, name: str) -> list[str]:
    return [v.compose.services["web"]["image"] for v in db.stack_versions.list(name)]


def test_symlinked_root_swapped_to_a_new_release(db, tmp_path):
    for release, image in (("r1", "img:1"), ("r2", "img:2")):
        (tmp_path / release).mkdir()
        (tmp_path / release / "shop.yaml").write_text(manifest("shop", image))
    root = tmp_path / "current"
    root.symlink_to(tmp_path / "r1")
    watcher = Watcher(db, root)
    watcher.sync()
    stop, thread = watching(watcher)
    try:
        (tmp_path / "next").symlink_to(tmp_path / "r2")
        os.replace(tmp_path / "next", root)  # atomic, as deploy tools do
        wait_for(lambda: images(db, "shop") == ["img:1", "img:2"], what="the new release")
        # And the new release is watched from then on.
        (tmp_path / "r2" / "shop.yaml").write_text(manifest("shop", "img:3"))
        wait_for(lambda: images(db, "shop")[-1:] == ["img:3"], what="an edit in the release")
    finally:
        stop.set()
        thread.join(timeout=10)
    assert db.stack_versions.latest("shop").metadata.root == str(root)


def test_edits_are_noticed_and_a_burst_is_one_version(db, tmp_path):
    root = tmp_path / "manifests"
    root.mkdir()
    watcher = Watcher(db, root)
    stop, thread = watching(watcher)
    try:
        (root / "shop.yaml").write_text(manifest("shop", "img:1"))
        wait_for(lambda: images(db, "shop") == ["img:1"], what="the new file")
        for n in range(50):
            (root / "shop.yaml").write_text(manifest("shop", f"img:{n + 100}"))
        wait_for(lambda: images(db, "shop")[-1:] == ["img:149"], what="the burst")
        assert len(images(db, "shop")) <= 3  # v1, then one (rarely two) for the burst
    finally:
        stop.set()
        thread.join(timeout=10)


def test_json_log_lines():
    record = logging.LogRecord("stackctl.watcher", logging.INFO, __file__, 1,
                               "version recorded: %s", ("shop v2",), None)
    line = json.loads(JsonFormatter().format(record))
    assert (line["level"], line["logger"], line["message"]) == (
        "INFO", "stackctl.watcher", "version recorded: shop v2")
    assert line["ts"].endswith("+00:00")
