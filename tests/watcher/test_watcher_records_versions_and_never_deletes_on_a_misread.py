"""The watcher without an engine: files -> versions, commands and events; and its safety rules."""

from __future__ import annotations

import os
import subprocess

import pytest
from helpers.queue_view import commands

from controller.models import CommandStatus, CommandType
from controller.sources.watcher import Watcher


def manifest(name: str, image: str = "img:1", **spec) -> str:
    extra = "".join(f"  {k}: {v}\n" for k, v in spec.items())
    return (
        f"apiVersion: stackctl/v1\nkind: Stack\nmetadata:\n  name: {name}\nspec:\n"
        f"  compose:\n    services:\n      web:\n        image: {image}\n{extra}"
    )


def test_new_and_changed_files_record_versions_and_applies(db, root):
    watcher = Watcher(db, root)
    (root / "shop.yaml").write_text(manifest("shop"))
    assert watcher.sync().recorded == ["shop v1"]
    assert watcher.sync().recorded == []  # unchanged digest: nothing
    (root / "shop.yaml").write_text("# a comment changes nothing\n" + manifest("shop"))
    assert watcher.sync().recorded == []
    (root / "shop.yaml").write_text(manifest("shop", image="img:2"))
    assert watcher.sync().recorded == ["shop v2"]
    v2 = db.stack_versions.require("shop", "v2")
    assert (v2.parent_version, v2.metadata.source, v2.metadata.created_by) == (
        "v1", "shop.yaml", "stackctl watcher")
    # The older APPLY, still pending, was superseded by the newer one.
    assert commands(db, "shop") == [("APPLY_STACK_VERSION", "SUPERSEDED"),
                                    ("APPLY_STACK_VERSION", "PENDING")]


def test_unchanged_files_are_not_loaded_again_but_an_edit_the_clock_missed_is_seen(db, root):
    """The watcher reuses the load of unchanged entries; it compares contents, not mtimes."""
    watcher = Watcher(db, root)
    for name in ("a", "b", "c"):
        (root / f"{name}.yaml").write_text(manifest(name))
    watcher.sync()
    loads = watcher.cache.misses
    assert watcher.sync().recorded == [] and watcher.cache.misses == loads
    path = root / "b.yaml"
    before = path.stat()
    path.write_text(manifest("b", image="img:9"))  # same size as img:1
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert watcher.sync().recorded == ["b v2"]
    assert watcher.cache.misses == loads + 1


def test_load_warnings_are_recorded_once_per_distinct_set(db, root):
    watcher = Watcher(db, root)
    (root / "shop.yaml").write_text(manifest("shop", image="img:${TAG}"))  # TAG is not set
    for _ in range(3):
        watcher.sync()

    def warnings() -> list[str]:
        return [e.message for e in db.events.list(stack_id="shop").items
                if e.reason == "ManifestWarning"]

    [first] = warnings()
    assert first.startswith("shop.yaml: shop.yaml:") and "`TAG` is not set" in first
    (root / "shop.yaml").write_text(manifest("shop", image="img:${TAG}-${FLAVOUR}"))
    watcher.sync()
    watcher.sync()
    assert len(warnings()) == 2 and "`FLAVOUR` is not set" in warnings()[0]
    assert [e.level.value for e in db.events.list(stack_id="shop").items
            if e.reason == "ManifestWarning"] == ["WARNING", "WARNING"]


def test_invalid_manifest_keeps_the_stack_and_says_why_once(db, root):
    watcher = Watcher(db, root)
    (root / "shop.yaml").write_text(manifest("shop"))
    watcher.sync()
    (root / "shop.yaml").write_text("kind: Stack\nmetadata: {name: shop\n")  # name unreadable
    for _ in range(3):
        report = watcher.sync()
    assert report.kept == ["shop"] and report.deleted == []
    assert watcher.managed_names() == {"shop"}
    events = [e for e in db.events.list(stack_id="shop").items if e.reason == "ManifestInvalid"]
    assert len(events) == 1
    assert "shop.yaml:3: invalid YAML" in events[0].message
    assert events[0].data["errors"][0]["file"] == "shop.yaml"
    assert len(db.stack_versions.list("shop")) == 1
    assert all(t != "DELETE_STACK" for t, _ in commands(db, "shop"))
    (root / "shop.yaml").write_text(manifest("shop", image="img:2"))
    assert watcher.sync().recorded == ["shop v2"]
    assert db.events.list(stack_id="shop").items[0].reason == "ManifestFixed"


def test_invalid_value_with_readable_name_is_an_event_on_that_stack(db, root):
    watcher = Watcher(db, root)
    (root / "shop.yaml").write_text(manifest("shop"))
    watcher.sync()
    (root / "shop.yaml").write_text(manifest("shop", ports="[bad]"))
    report = watcher.sync()
    assert report.invalid == ["shop.yaml"] and report.recorded == []
    [event] = [e for e in db.events.list(stack_id="shop").items if e.reason == "ManifestInvalid"]
    assert "the last good version keeps running" in event.message


def test_removed_manifest_deletes_or_orphans_by_policy(db, root):
    watcher = Watcher(db, root)
    (root / "a.yaml").write_text(manifest("a"))
    (root / "b.yaml").write_text(manifest("b", deletionPolicy="Orphan"))
    (root / "c.yaml").write_text(manifest("c"))
    watcher.sync()
    (root / "a.yaml").unlink()
    (root / "b.yaml").unlink()
    report = watcher.sync()
    assert sorted(report.deleted) == ["a", "b"]
    assert commands(db, "a")[-1] == ("DELETE_STACK", "PENDING")
    assert commands(db, "b")[-1] == ("APPLY_STACK_VERSION", "PENDING")  # no DELETE: orphan
    assert db.stacks.require("b").current_version is None
    assert watcher.sync().deleted == []  # said once
    (root / "a.yaml").write_text(manifest("a"))  # it comes back unchanged
    watcher.sync()
    assert commands(db, "a")[-1] == ("APPLY_STACK_VERSION", "PENDING")


@pytest.mark.parametrize("how", ["emptied", "missing"])
def test_empty_or_missing_root_deletes_nothing_unless_allowed(db, root, how):
    (root / "a.yaml").write_text(manifest("a"))
    Watcher(db, root).sync()
    (root / "a.yaml").unlink()
    if how == "missing":
        root.rmdir()
    Watcher(db, root).sync()
    assert all(t != "DELETE_STACK" for t, _ in commands(db, "a"))
    assert db.events.list().items[0].reason == "DeletionRefused"
    if how == "emptied":
        Watcher(db, root, allow_empty=True).sync()
        assert commands(db, "a")[-1] == ("DELETE_STACK", "PENDING")


def test_stacks_recorded_from_another_folder_are_not_deleted(db, root, tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "x.yaml").write_text(manifest("x"))
    Watcher(db, other).sync()
    (root / "a.yaml").write_text(manifest("a"))
    assert Watcher(db, root).sync().deleted == []


def test_pinned_stack_records_but_does_not_apply(db, root):
    watcher = Watcher(db, root)
    (root / "shop.yaml").write_text(manifest("shop"))
    watcher.sync()
    db.stacks.update("shop", pinned=True)
    (root / "shop.yaml").write_text(manifest("shop", image="img:2"))
    assert watcher.sync().recorded == ["shop v2"]
    assert db.stacks.require("shop").current_version == "v1"
    assert [c.type for c in db.commands.list(stack_id="shop").items] == [
        CommandType.APPLY_STACK_VERSION]


def test_git_commit_is_recorded_in_metadata(db, root):
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "ann@example.com")
    git("config", "user.name", "Ann")
    (root / "shop.yaml").write_text(manifest("shop"))
    git("add", ".")
    git("commit", "-q", "-m", "Add the shop")
    Watcher(db, root).sync()
    meta = db.stack_versions.require("shop", "v1").metadata
    assert (meta.git_author, meta.git_subject) == ("Ann <ann@example.com>", "Add the shop")
    assert meta.git_commit and len(meta.git_commit) == 40
    (root / "shop.yaml").write_text(manifest("shop", image="img:2"))
    Watcher(db, root).sync()
    edited = db.stack_versions.require("shop", "v2").metadata
    assert edited.git_subject == "(uncommitted changes on top of) Add the shop"
    assert db.commands.list(stack_id="shop").items[0].status is CommandStatus.PENDING
