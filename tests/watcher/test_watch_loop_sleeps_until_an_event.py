"""The watch loop is event-driven (issue 27, goal 4): with inotify its thread sleeps until the
kernel reports a change or the doorbell rings, not on a timer. Each test makes the one periodic
look (``CHECK_EVERY``) an hour long, so whatever happens here was caused by an event: a write,
a folder created later, a nudge, a stop rung by ``wake``. And the inotify tree itself: new
folders watched, ignored paths (``.git``, swap files) no change, the root's removal said."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from helpers.controller_process import wait_for

from controller.db import Database
from controller.sources import inotify, watch_loop
from controller.sources.watcher import Watcher

pytestmark = pytest.mark.skipif(not inotify.available(), reason="needs Linux's inotify")


def manifest(name: str, image: str) -> str:
    return (
        f"apiVersion: stackctl/v1\nkind: Stack\nmetadata:\n  name: {name}\nspec:\n"
        f"  compose:\n    services:\n      web:\n        image: {image}\n"
    )


def images(db: Database, name: str) -> list[str]:
    return [v.compose.services["web"]["image"] for v in db.stack_versions.list(name)]


@pytest.fixture
def no_timer(monkeypatch):
    monkeypatch.setattr(watch_loop, "CHECK_EVERY", 3600.0)


def start(watcher: Watcher) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=watcher.watch, args=(stop,), daemon=True)
    thread.start()
    wait_for(watcher.alive.is_set, what="the watcher", timeout=10)
    return stop, thread


def stopped(watcher: Watcher, stop: threading.Event, thread: threading.Thread) -> bool:
    stop.set()
    watcher.wake()
    thread.join(timeout=10)
    return not thread.is_alive()


def test_a_write_in_a_folder_made_after_the_start_wakes_the_loop(db, tmp_path, no_timer):
    root = tmp_path / "manifests"
    root.mkdir()
    watcher = Watcher(db, root)
    stop, thread = start(watcher)
    try:
        wait_for(lambda: watcher.last is not None, what="the first pass", timeout=10)
        (root / "team" / "shop").mkdir(parents=True)  # two levels at once: both watched
        compose = root / "team" / "shop" / "compose.yaml"
        compose.write_text("services:\n  web:\n    image: img:1\n")
        (root / "shop.yaml").write_text(
            "apiVersion: stackctl/v1\nkind: Stack\nmetadata:\n  name: shop\nspec:\n"
            "  composeFile: team/shop/compose.yaml\n"
        )
        wait_for(lambda: images(db, "shop") == ["img:1"], what="the new stack", timeout=10)
        compose.write_text("services:\n  web:\n    image: img:2\n")  # its only event
        wait_for(lambda: images(db, "shop") == ["img:1", "img:2"], what="the edit", timeout=10)
    finally:
        assert stopped(watcher, stop, thread)


def test_a_nudge_and_a_stop_ring_the_doorbell(db, tmp_path, no_timer, monkeypatch):
    root = tmp_path / "manifests"
    root.mkdir()
    watcher = Watcher(db, root)
    passes = []
    sync = watcher.sync
    monkeypatch.setattr(watcher, "sync", lambda: passes.append(1) or sync())
    stop, thread = start(watcher)
    wait_for(lambda: passes, what="the first pass", timeout=10)
    watcher.nudge()
    wait_for(lambda: len(passes) == 2, what="the pass a nudge asks for", timeout=10)
    assert stopped(watcher, stop, thread)
    assert watcher._bell is None  # its descriptors closed with the loop
    watcher.wake()  # after the loop: nothing to ring, no error


def test_the_tree_reports_changes_but_not_ignored_ones(tmp_path):
    (tmp_path / ".git" / "objects").mkdir(parents=True)
    (tmp_path / "a").mkdir()
    with inotify.Tree(str(tmp_path)) as tree:
        assert tree.read() is False  # nothing happened yet
        (tmp_path / ".git" / "index").write_text("x")
        (tmp_path / "a" / ".shop.yaml.swp").write_text("x")
        assert tree.read() is False
        (tmp_path / "a" / "b").mkdir()
        assert tree.read() is True
        (tmp_path / "a" / "b" / "shop.yaml").write_text("x")
        assert tree.read() is True  # the folder made after the start is watched
        assert not tree.root_gone


def test_the_tree_says_when_its_root_is_gone(tmp_path):
    root = tmp_path / "manifests"
    root.mkdir()
    with inotify.Tree(str(root)) as tree:
        os.rename(root, tmp_path / "elsewhere")
        assert tree.read() is True
        assert tree.root_gone


def test_no_watch_on_a_missing_root(tmp_path):
    with pytest.raises(OSError):
        inotify.Tree(str(tmp_path / "missing"))


def test_polling_is_used_when_asked(monkeypatch):
    monkeypatch.setenv("WATCHFILES_FORCE_POLLING", "1")
    assert not inotify.available()
    monkeypatch.setenv("WATCHFILES_FORCE_POLLING", "false")
    assert inotify.available()


def test_the_watchfiles_fallback_still_follows_edits(db, tmp_path, monkeypatch):
    monkeypatch.setenv("WATCHFILES_FORCE_POLLING", "1")  # watchfiles, polling the disk
    root = Path(tmp_path / "manifests")
    root.mkdir()
    watcher = Watcher(db, root)
    stop, thread = start(watcher)
    try:
        (root / "shop.yaml").write_text(manifest("shop", "img:1"))
        wait_for(lambda: images(db, "shop") == ["img:1"], what="the new file", timeout=20)
    finally:
        assert stopped(watcher, stop, thread)
