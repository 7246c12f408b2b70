"""The watcher keeps the stacks of its root as ``CompactStack``s (issue 27, goal 3: 10,000 loaded
models were most of the controller's memory): what it records from them is what it would record
from the models, they expand back to equal models, and its cache still tells an unchanged file
from a changed one."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.stacks import desired_stack

from controller.desired.compact import CompactStack, expanded
from controller.sources.versions import to_compose_definition
from controller.sources.watcher import Watcher

STACKS = {
    "plain": ({"services": {"web": {"image": "img:1"}}}, {}),
    "settings": (
        {"services": {"web": {"image": "img:1", "ports": ["8080:80"], "volumes": ["./d:/d"]}}},
        {"suspend": True, "deletionPolicy": "Orphan", "rollback": {"onFailure": True}},
    ),
    "followed": (
        {"services": {"web": {"image": "img:1"}}},
        {"imageUpdates": {"policy": "notify"}, "timeout": "5s"},
    ),
}


@pytest.mark.parametrize("name", sorted(STACKS))
def test_a_compact_stack_records_and_expands_as_its_model(tmp_path: Path, name: str):
    compose, spec = STACKS[name]
    model = desired_stack(tmp_path, name, compose, **spec)
    compact = CompactStack.of(model)
    assert (compact.name, compact.digest, compact.source, compact.base) == (
        model.name,
        model.digest,
        model.source,
        model.base,
    )
    assert compact.image_updates == model.image_updates
    assert to_compose_definition(compact) == to_compose_definition(model)
    again = compact.expand()
    assert again == model and again.compose_views == model.compose_views
    assert expanded(model) is model


def manifest(name: str, image: str = "img:1") -> str:
    return (
        f"apiVersion: stackctl/v1\nkind: Stack\nmetadata:\n  name: {name}\nspec:\n"
        f"  compose:\n    services:\n      web:\n        image: {image}\n"
    )


def test_the_cache_tells_unchanged_from_changed_with_compact_stacks(db, root):
    for name in ("a", "b", "c"):
        (root / f"{name}.yaml").write_text(manifest(name))
    watcher = Watcher(db, root)
    assert sorted(watcher.sync().recorded) == ["a v1", "b v1", "c v1"]
    assert watcher.last is not None
    assert all(isinstance(s, CompactStack) for s in watcher.last.stacks.values())
    assert watcher.sync().recorded == []  # nothing changed: nothing recorded
    hits = watcher.cache.hits
    (root / "b.yaml").write_text(manifest("b", image="img:2"))
    assert watcher.sync().recorded == ["b v2"]
    assert watcher.cache.hits == hits + 2  # a and c reused, b loaded again
    (root / "b.yaml").write_text(manifest("b", image="img:1"))  # back: a new version again
    assert watcher.sync().recorded == ["b v3"]
    assert db.stack_versions.latest("b").digest == db.stack_versions.require("b", "v1").digest


def test_what_a_pass_knows_of_each_stack_is_its_current_version(db, root):
    """Each pass reads every stack's current version alone (not 10,000 ``Stack`` models)."""
    for name in ("a", "b"):
        (root / f"{name}.yaml").write_text(manifest(name))
    Watcher(db, root).sync()
    db.stacks.update("b", current_version=None)  # let go (orphaned)
    assert db.stacks.current_versions() == {s.stack_id: s.current_version for s in db.stacks.list()}
    assert db.stacks.current_versions() == {"a": "v1", "b": None}
    (root / "b.yaml").unlink()
    assert Watcher(db, root).sync().deleted == []  # already let go: nothing to delete
