"""Versions are numbered v1, v2, ... per stack, record their parent, and never change."""

from __future__ import annotations

import sqlite3

import pytest

from controller.db import Database
from controller.models import ComposeDefinition, StackMetadata, StackVersion, VersionStatus
from controller.models.errors import ConflictError, NotFoundError


def version(stack_id: str = "shop", image: str = "busybox:1", **fields) -> StackVersion:
    return StackVersion(
        stack_id=stack_id,
        compose=ComposeDefinition(services={"web": {"image": image}}),
        metadata=StackMetadata(created_by="test", comment=image),
        **fields,
    )


def test_labels_count_up_per_stack_with_parents(db: Database, make_stack):
    make_stack("shop")
    make_stack("blog")
    v1 = db.stack_versions.create(version("shop", "a"))
    v2 = db.stack_versions.create(version("shop", "b"))
    b1 = db.stack_versions.create(version("blog", "a"))
    assert (v1.version, v1.parent_version) == ("v1", None)
    assert (v2.version, v2.parent_version) == ("v2", "v1")
    assert (b1.version, b1.parent_version) == ("v1", None)
    assert [v.version for v in db.stack_versions.list("shop")] == ["v1", "v2"]
    assert db.stack_versions.latest("shop") == v2
    assert db.stacks.require("shop").current_version == "v2"


def test_stored_version_reads_back_equal(db: Database, make_stack):
    make_stack()
    created = db.stack_versions.create(version())
    assert db.stack_versions.require("shop", "v1") == created
    assert created.digest == created.compose.digest()


def test_explicit_parent_is_kept(db: Database, make_stack):
    make_stack()
    db.stack_versions.create(version(image="a"))
    db.stack_versions.create(version(image="b"))
    rollback = db.stack_versions.create(version(image="a", parent_version="v2"))
    assert (rollback.version, rollback.parent_version) == ("v3", "v2")


@pytest.mark.parametrize("label", ["v2", "v3"])
def test_out_of_order_label_is_refused_and_nothing_written(db: Database, make_stack, label):
    make_stack()
    with pytest.raises(ConflictError, match="out of order, the next is v1"):
        db.stack_versions.create(version(version=label))
    assert db.stack_versions.list("shop") == []


def test_parent_that_does_not_exist_is_refused(db: Database, make_stack):
    make_stack()
    with pytest.raises(ConflictError, match="parent version v4 does not exist"):
        db.stack_versions.create(version(parent_version="v4"))


def test_version_for_unknown_stack_is_refused(db: Database):
    with pytest.raises(NotFoundError, match="no stack named 'ghost'"):
        db.stack_versions.create(version("ghost"))


def test_bad_label_is_refused_by_the_model():
    with pytest.raises(ValueError, match="v1, v2"):
        version(version="1.0")


@pytest.mark.parametrize(
    "assignment",
    [
        "compose_spec = '{}'",
        "digest = 'x'",
        "parent_version = 'v9'",
        "metadata = '{}'",
        "version_number = 7, version = 'v7'",
        "created_at = 'now'",
    ],
)
def test_database_refuses_to_change_a_definition(db: Database, make_stack, assignment: str):
    make_stack()
    db.stack_versions.create(version())
    with pytest.raises(sqlite3.IntegrityError, match="immutable"), db.transaction() as conn:
        conn.execute(f"UPDATE stack_versions SET {assignment}")
    assert db.stack_versions.require("shop", "v1").compose.services == {
        "web": {"image": "busybox:1"}
    }


def test_status_and_runtime_may_change(db: Database, make_stack):
    make_stack()
    db.stack_versions.create(version())
    updated = db.stack_versions.set_status(
        "shop", "v1", VersionStatus.APPLIED, runtime={"web": ["abc123"]}
    )
    assert updated.status is VersionStatus.APPLIED
    assert updated.runtime == {"web": ["abc123"]}
    assert db.stack_versions.require("shop", "v1") == updated


def test_heads_give_every_stacks_latest_version_without_its_definition(db: Database, make_stack):
    make_stack("shop")
    make_stack("blog")
    make_stack("empty")  # no version yet: no head
    db.stack_versions.create(version("shop", "a"))
    db.stack_versions.create(
        StackVersion(
            stack_id="shop",
            compose=ComposeDefinition(services={"web": {"image": "b"}}),
            metadata=StackMetadata(source="shop.yaml", root="/srv/manifests"),
        )
    )
    db.stack_versions.create(version("blog", "a"))
    heads = db.stack_versions.heads()
    assert set(heads) == {"shop", "blog"}
    latest = db.stack_versions.latest("shop")
    assert (heads["shop"].version, heads["shop"].digest) == ("v2", latest.digest)
    assert (heads["shop"].source, heads["shop"].root) == ("shop.yaml", "/srv/manifests")
    assert (heads["blog"].version, heads["blog"].source, heads["blog"].root) == ("v1", None, None)
