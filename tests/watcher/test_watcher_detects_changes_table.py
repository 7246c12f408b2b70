"""The watcher's decision, as a table: files on disk + what the database knows + what was
already said -> the changes to carry out. No engine, no database: ``detect`` is pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from controller.models import CommandStatus, CommandType, Stack, VersionHead
from controller.sources.changes import (
    NOTHING_KNOWN,
    DeletionRefused,
    Known,
    ManifestFixed,
    ManifestInvalid,
    ManifestRestored,
    ManifestWarned,
    NewVersion,
    Said,
    Settings,
    StackGone,
    detect,
    to_delete,
)
from controller.sources.loader import load_root

ROOT = "/srv/manifests"  # what the known heads say they were recorded from; see ``here``
BROKEN = "apiVersion: stackctl/v1\nkind: Stack\nmetadata: [unclosed\n"


def manifest(name: str, image: str = "img:1", extra: str = "") -> str:
    return (
        f"apiVersion: stackctl/v1\nkind: Stack\nmetadata:\n  name: {name}\nspec:\n"
        f"  compose:\n    services:\n      web:\n        image: {image}\n{extra}"
    )


@dataclass(frozen=True)
class Head:
    """A stack the database knows: ``same`` digest as the file's, or an older one."""

    same: bool = True
    source: str | None = None  # default: "<name>.yaml"
    elsewhere: bool = False  # recorded from another root (``stackctl apply``)
    current: bool = True  # False: orphaned
    newest: tuple[CommandType, CommandStatus] | None = None


DELETE_PENDING = (CommandType.DELETE_STACK, CommandStatus.PENDING)
DELETE_FAILED = (CommandType.DELETE_STACK, CommandStatus.FAILED)


@dataclass(frozen=True)
class Row:
    files: dict[str, str]
    known: dict[str, Head] = field(default_factory=dict)
    said: Said = field(default_factory=Said)
    allow_empty: bool = False
    policies: dict[str, str] = field(default_factory=dict)
    expected: list[tuple] = field(default_factory=list)
    kept: tuple[str, ...] = ()


def summary(change) -> tuple:
    match change:
        case ManifestFixed(source=s, names=n):
            return ("fixed", s, n)
        case ManifestInvalid(source=s, names=n):
            return ("invalid", s, n)
        case ManifestWarned(source=s, names=n):
            return ("warned", s, n)
        case NewVersion(desired=d):
            return ("new", d.name)
        case ManifestRestored(name=n):
            return ("restored", n)
        case StackGone(name=n, policy=p):
            return ("gone", n, p)
        case DeletionRefused(message=m):
            return ("refused", m)
    raise AssertionError(change)


def known_from(loaded, heads: dict[str, Head], root: Path, policies=None) -> Known:
    def digest(name: str, head: Head) -> str:
        return loaded.stacks[name].digest if head.same and name in loaded.stacks else "old"

    return Known(
        heads={
            name: VersionHead(
                stack_id=name,
                version="v1",
                digest=digest(name, head),
                source=head.source or f"{name}.yaml",
                root=ROOT if head.elsewhere else str(root),
            )
            for name, head in heads.items()
        },
        stacks={
            name: Stack(stack_id=name, name=name, current_version="v1" if h.current else None)
            for name, h in heads.items()
        },
        newest={name: h.newest for name, h in heads.items() if h.newest},
        policies=policies or {},
    )


def run(tmp_path: Path, row: Row):
    root = tmp_path / "root"
    root.mkdir(parents=True)
    for name, text in row.files.items():
        (root / name).write_text(text)
    loaded = load_root(root)
    known = known_from(loaded, row.known, root, row.policies)
    settings = Settings(root=root, allow_empty=row.allow_empty)
    return root, loaded, known, detect(loaded, known, said=row.said, settings=settings)


ROWS = {
    "a new stack is recorded": Row(
        files={"shop.yaml": manifest("shop")},
        expected=[("new", "shop")],
    ),
    "an unchanged digest records nothing": Row(
        files={"shop.yaml": manifest("shop")},
        known={"shop": Head()},
    ),
    "a changed digest records a new version": Row(
        files={"shop.yaml": manifest("shop", image="img:2")},
        known={"shop": Head(same=False)},
        expected=[("new", "shop")],
    ),
    "an orphaned stack whose manifest is back is adopted again": Row(
        files={"shop.yaml": manifest("shop")},
        known={"shop": Head(current=False)},
        expected=[("restored", "shop")],
    ),
    "a stack being deleted whose manifest is back is adopted again": Row(
        files={"shop.yaml": manifest("shop")},
        known={"shop": Head(newest=DELETE_PENDING)},
        expected=[("restored", "shop")],
    ),
    "a failed delete does not count as let go": Row(
        files={"shop.yaml": manifest("shop")},
        known={"shop": Head(newest=DELETE_FAILED)},
    ),
    "an invalid manifest is said, its stack kept at the last good version": Row(
        files={"shop.yaml": manifest("shop", extra="  bogus: 1\n")},
        known={"shop": Head()},
        expected=[("invalid", "shop.yaml", ("shop",))],
    ),
    "an unreadable manifest names the stacks recorded from it, which are kept": Row(
        files={"shop.yaml": BROKEN, "other.yaml": manifest("other")},
        known={"shop": Head(), "other": Head()},
        expected=[("invalid", "shop.yaml", ("shop",))],
        kept=("shop",),
    ),
    "a manifest valid again is said so": Row(
        files={"shop.yaml": manifest("shop")},
        known={"shop": Head()},
        said=Said(errors={"shop.yaml": "shop.yaml:3: broken"}),
        expected=[("fixed", "shop.yaml", ("shop",))],
    ),
    "warnings are said": Row(
        files={"shop.yaml": manifest("shop", image="img${TAG}")},
        known={"shop": Head()},
        expected=[("warned", "shop.yaml", ("shop",))],
    ),
    "a stack no longer declared is deleted": Row(
        files={"a.yaml": manifest("a")},
        known={"a": Head(), "b": Head()},
        expected=[("gone", "b", "Delete")],
    ),
    "deletionPolicy Orphan lets it go instead": Row(
        files={"a.yaml": manifest("a")},
        known={"a": Head(), "b": Head()},
        policies={"b": "Orphan"},
        expected=[("gone", "b", "Orphan")],
    ),
    "a stack recorded from elsewhere is never deleted by this root": Row(
        files={"a.yaml": manifest("a")},
        known={"a": Head(), "b": Head(elsewhere=True)},
    ),
    "a stack already let go is not deleted again": Row(
        files={"a.yaml": manifest("a")},
        known={"a": Head(), "b": Head(current=False), "c": Head(newest=DELETE_PENDING)},
    ),
    "a root suddenly empty deletes nothing": Row(
        files={},
        known={"a": Head(), "b": Head()},
        expected=[("refused", "{root} yields no stacks while 2 were recorded from it;"
                   " deleting nothing (--allow-empty permits it)")],
    ),
    "a root still empty is not said again": Row(
        files={},
        known={"a": Head()},
        said=Said(empty_root=True),
    ),
    "allow_empty lets an empty root delete": Row(
        files={},
        known={"a": Head(), "b": Head()},
        allow_empty=True,
        expected=[("gone", "a", "Delete"), ("gone", "b", "Delete")],
    ),
    "one pass: errors, warnings, versions, then deletions, in that order": Row(
        files={
            "bad.yaml": manifest("bad", extra="  bogus: 1\n"),
            "warn.yaml": manifest("warn", image="img${TAG}"),
            "new.yaml": manifest("new"),
        },
        known={"bad": Head(), "warn": Head(), "zgone": Head(), "agone": Head()},
        expected=[
            ("invalid", "bad.yaml", ("bad",)),
            ("warned", "warn.yaml", ("warn",)),
            ("new", "new"),
            ("gone", "agone", "Delete"),
            ("gone", "zgone", "Delete"),
        ],
    ),
}


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_detect(tmp_path: Path, row: Row) -> None:
    root, _, _, detected = run(tmp_path, row)
    expected = [tuple(str(v).format(root=root) for v in e) if e[0] == "refused" else e
                for e in row.expected]
    assert [summary(c) for c in detected.changes] == expected
    assert detected.kept == row.kept


def test_a_second_pass_over_the_same_files_says_nothing_again(tmp_path: Path) -> None:
    """Errors, warnings and a refused deletion are said once per distinct set."""
    row = Row(
        files={"bad.yaml": BROKEN, "warn.yaml": manifest("warn", image="img${TAG}")},
        known={"bad": Head(), "warn": Head(), "gone": Head()},
    )
    root, loaded, known, first = run(tmp_path, row)
    assert [summary(c)[0] for c in first.changes] == ["invalid", "warned", "gone"]
    settings = Settings(root=root)
    again = detect(loaded, known, said=first.said, settings=settings)
    assert [summary(c)[0] for c in again.changes] == ["gone"] and again.said == first.said
    (root / "bad.yaml").write_text(BROKEN + "# another error set\nspec: 1\n")
    changed = detect(load_root(root), known, said=first.said, settings=settings)
    assert [summary(c)[:2] for c in changed.changes][:1] == [("invalid", "bad.yaml")]


def test_what_is_said_is_remembered_and_what_is_gone_forgotten(tmp_path: Path) -> None:
    files = {
        "bad.yaml": BROKEN,
        "warn.yaml": manifest("warn", image="img${TAG}"),
        "fixed.yaml": manifest("fixed"),
    }
    said = Said(
        errors={"fixed.yaml": "old", "elsewhere.yaml": "kept: its file may come back"},
        warnings={"gone.yaml": "forgotten", "fixed.yaml": "no warning any more"},
        empty_root=True,
    )
    _, loaded, _, detected = run(tmp_path, Row(files=files, said=said))
    assert dict(detected.said.errors) == {
        "elsewhere.yaml": "kept: its file may come back",
        "bad.yaml": "\n".join(e.render() for e in loaded.sources["bad.yaml"].errors),
    }
    assert {s: bool(f) for s, f in detected.said.warnings.items()} == {
        "warn.yaml": True, "fixed.yaml": False}
    assert detected.said.empty_root is False  # nothing missing: the warning no longer holds
    assert said.errors["fixed.yaml"] == "old"  # the input is not changed


def test_a_missing_root_refuses_once(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path / "nowhere")
    first = detect(None, NOTHING_KNOWN, said=Said(errors={"a.yaml": "x"}), settings=settings)
    assert [summary(c) for c in first.changes] == [
        ("refused", f"the watched directory {tmp_path / 'nowhere'} is missing or unreadable")]
    assert (first.said.empty_root, dict(first.said.errors), first.kept) == (
        True, {"a.yaml": "x"}, None)
    again = detect(None, NOTHING_KNOWN, said=first.said, settings=settings)
    assert again.changes == [] and again.said.empty_root is True


def test_to_delete_names_the_policies_detect_needs(tmp_path: Path) -> None:
    row = Row(files={"a.yaml": manifest("a")}, known={"a": Head(), "c": Head(), "b": Head()})
    root, loaded, known, _ = run(tmp_path, row)
    assert to_delete(loaded, known, settings=Settings(root=root)) == ["b", "c"]
    empty, _, _, _ = run(tmp_path / "e", Row(files={}, known={"a": Head()}))
    loaded_empty = load_root(empty)
    known_empty = known_from(loaded_empty, {"a": Head()}, empty)
    assert to_delete(loaded_empty, known_empty, settings=Settings(root=empty)) == []
    assert to_delete(
        loaded_empty, known_empty, settings=Settings(root=empty, allow_empty=True)) == ["a"]
