"""A watched directory holding every input that used to crash the loader, beside one valid
stack: the valid stack's versions, edits and deletion still go through, and each hostile
source is reported as invalid with its file and what is wrong (issue 9, items 4 and 5).
No engine: the watcher runs against a real database only."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.queue_view import commands

from controller.db import Database
from controller.sources.watcher import Watcher

GOOD = "services:\n  web:\n    image: img:{tag}\n"


def web(extra: str) -> str:
    return "services:\n  web:\n    image: nginx\n" + extra


def chain(count: int, *, cycle: bool) -> str:
    lines = ["services:"]
    for i in range(count):
        if i == count - 1 and not cycle:
            lines.append(f"  s{i}: {{image: nginx}}")
        else:
            lines.append(f"  s{i}: {{image: nginx, depends_on: [s{(i + 1) % count}]}}")
    return "\n".join(lines) + "\n"


def manifest(name: str, spec: str) -> str:
    return f"apiVersion: stackctl/v1\nkind: Stack\nmetadata: {{name: {name}}}\nspec:\n{spec}"


NESTED = "${A:-" * 1000 + "x" + "}" * 1000

# The source as the watcher sees it -> (its files, the file its error names, a word of it).
HOSTILE: dict[str, tuple[dict[str, str], str, str]] = {
    "cpus-nan": ({"cpus-nan/compose.yaml": web("    cpus: .nan\n")}, "compose.yaml", "number"),
    "replicas-inf.yaml": (
        {"replicas-inf.yaml": web("    deploy: {replicas: .inf}\n")}, "", "expected an integer",
    ),
    "bad-int": ({"bad-int/compose.yaml": web("    labels: {a: !!int 0x1g}\n")}, "compose.yaml",
                "0x1g"),
    "nul-env-file": (
        {"nul-env-file/compose.yaml": web('    env_file: "a\\0b"\n')}, "compose.yaml", "NUL",
    ),
    "nul-secret": (
        {"nul-secret/compose.yaml": web('    secrets: [s]\nsecrets:\n  s: {file: "a\\0b"}\n')},
        "compose.yaml", "NUL",
    ),
    "nul-config": (
        {"nul-config/compose.yaml": web('    configs: [c]\nconfigs:\n  c: {file: "a\\0b"}\n')},
        "compose.yaml", "NUL",
    ),
    "nul-context": (
        {"nul-context/compose.yaml": 'services:\n  web:\n    build: {context: "a\\0b"}\n'},
        "compose.yaml", "NUL",
    ),
    "nul-bind": (
        {"nul-bind/compose.yaml": web('    volumes: ["./a\\0b:/data"]\n')}, "compose.yaml", "NUL",
    ),
    "nul-env-file.yaml": (
        {"nul-env-file.yaml": manifest(
            "nulenv", '  envFile: "a\\0b"\n  compose: {services: {web: {image: a}}}\n')},
        "", "NUL",
    ),
    "nul-compose-file.yaml": (
        {"nul-compose-file.yaml": manifest("nulcompose", '  composeFile: "a\\0b"\n')}, "", "NUL",
    ),
    "nested": (
        {"nested/compose.yaml": web(f"    environment: {{X: '{NESTED}'}}\n")},
        "compose.yaml", "nested",
    ),
    "chain": ({"chain/compose.yaml": chain(1500, cycle=False)}, "compose.yaml", "deep"),
    "cycle": ({"cycle/compose.yaml": chain(1501, cycle=True)}, "compose.yaml", "cycle"),
}  # fmt: skip


def fifo(path: Path) -> None:
    os.mkfifo(path)


def directory(path: Path) -> None:
    path.mkdir()


def dangling(path: Path) -> None:
    path.symlink_to("gone.yaml")


# Folders whose compose file is there but cannot be read as one (item 5).
UNREADABLE: dict[str, tuple[Callable[[Path], None], str]] = {
    "fifo": (fifo, "FIFO"),
    "folder": (directory, "directory"),
    "dangling": (dangling, "symlink to nothing"),
}


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def drop_hostile_inputs(root: Path) -> set[str]:
    """Every crashing input of the issue, as separate files and folders; their sources."""
    for files, _, _ in HOSTILE.values():
        write(root, files)
    for name, (make, _) in UNREADABLE.items():
        (root / name).mkdir()
        make(root / name / "compose.yaml")
    return set(HOSTILE) | set(UNREADABLE)


def test_the_valid_stack_is_recorded_edited_and_deleted_while_hostile_files_sit_there(
    db: Database, root: Path
) -> None:
    hostile = drop_hostile_inputs(root)
    write(root, {"shop/compose.yaml": GOOD.format(tag=1)})
    watcher = Watcher(db, root)

    report = watcher.sync()
    assert report.recorded == ["shop v1"]
    assert set(report.invalid) == hostile
    assert commands(db, "shop") == [("APPLY_STACK_VERSION", "PENDING")]
    assert watcher.last is not None
    for source, (_, file, word) in HOSTILE.items():
        [first, *_] = watcher.last.sources[source].errors
        assert first.file == (f"{source}/{file}" if file else source)
        assert first.line is not None and word.lower() in first.message.lower(), first.render()
        assert "internal error" not in first.message
    for name, (_, word) in UNREADABLE.items():
        [error] = watcher.last.sources[name].errors
        assert error.file == f"{name}/compose.yaml" and word in error.message

    write(root, {"shop/compose.yaml": GOOD.format(tag=2)})
    report = watcher.sync()
    assert report.recorded == ["shop v2"] and report.deleted == []
    assert commands(db, "shop") == [
        ("APPLY_STACK_VERSION", "SUPERSEDED"),
        ("APPLY_STACK_VERSION", "PENDING"),
    ]

    (root / "shop" / "compose.yaml").unlink()
    (root / "shop").rmdir()
    report = watcher.sync()
    assert report.deleted == ["shop"]
    assert commands(db, "shop")[-1] == ("DELETE_STACK", "PENDING")


def test_each_hostile_source_is_one_invalid_event_with_file_and_message(
    db: Database, root: Path
) -> None:
    hostile = drop_hostile_inputs(root)
    watcher = Watcher(db, root)
    for _ in range(2):  # said once, not at every pass
        watcher.sync()
    invalid = [e for e in db.events.list(limit=100).items if e.reason == "ManifestInvalid"]
    assert len(invalid) == len(hostile)
    named = {e.data["errors"][0]["file"].split("/")[0] for e in invalid if e.data}
    assert named == hostile
    assert all(e.data and e.data["errors"][0]["message"] for e in invalid)


@pytest.mark.parametrize("how", sorted(UNREADABLE))
def test_a_folder_stack_whose_compose_file_breaks_is_kept_not_deleted(
    db: Database, root: Path, how: str
) -> None:
    write(root, {"shop/compose.yaml": GOOD.format(tag=1), "other/compose.yaml": GOOD.format(tag=1)})
    watcher = Watcher(db, root)
    assert sorted(watcher.sync().recorded) == ["other v1", "shop v1"]
    assert db.stack_versions.require("shop", "v1").metadata.source == "shop"

    compose = root / "shop" / "compose.yaml"
    compose.unlink()
    UNREADABLE[how][0](compose)
    for _ in range(2):
        report = watcher.sync()
        assert report.kept == ["shop"] and report.deleted == [] and report.invalid == ["shop"]
    assert all(t != "DELETE_STACK" for t, _ in commands(db, "shop"))
    assert "shop" in watcher.managed_names()

    (root / "other" / "compose.yaml").write_text(GOOD.format(tag=2))  # the others go on
    assert watcher.sync().recorded == ["other v2"]

    if compose.is_dir() and not compose.is_symlink():
        compose.rmdir()
    else:
        compose.unlink()
    compose.write_text(GOOD.format(tag=1))  # back as it was: nothing new to record
    report = watcher.sync()
    assert (report.recorded, report.kept, report.deleted, report.invalid) == ([], [], [], [])
    assert commands(db, "shop") == [("APPLY_STACK_VERSION", "PENDING")]


def test_an_unexpected_exception_in_one_source_leaves_the_others_going(
    db: Database, root: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import controller.sources.loader.entries as loader

    real = loader.compile_stack

    def compile_or_fail(data, **kwargs):  # type: ignore[no-untyped-def]
        if kwargs.get("source") == "buggy":
            raise RuntimeError("a bug")
        return real(data, **kwargs)

    write(root, {"buggy/compose.yaml": GOOD.format(tag=1), "shop/compose.yaml": GOOD.format(tag=1)})
    watcher = Watcher(db, root)
    assert sorted(watcher.sync().recorded) == ["buggy v1", "shop v1"]

    monkeypatch.setattr(loader, "compile_stack", compile_or_fail)
    write(root, {"buggy/compose.yaml": GOOD.format(tag=2), "shop/compose.yaml": GOOD.format(tag=2)})
    with caplog.at_level(logging.ERROR, logger="stackctl.source"):
        report = watcher.sync()
        watcher.sync()
    assert report.recorded == ["shop v2"]
    assert report.invalid == ["buggy"] and report.kept == ["buggy"] and report.deleted == []
    assert watcher.last is not None
    [error] = watcher.last.sources["buggy"].errors
    assert error.message == "internal error while loading: RuntimeError: a bug"
    assert len([r for r in caplog.records if r.name == "stackctl.source"]) == 1
