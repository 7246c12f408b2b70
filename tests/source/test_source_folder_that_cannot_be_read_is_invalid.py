"""A project folder whose compose file is there but cannot be read as one (a FIFO, a folder, a
dangling or looping symlink, an unreadable file) is an invalid source, not a folder without a
stack: the watcher then keeps its stack instead of deleting it (issue 9, item 5). A FIFO is
never opened: opening one for reading blocks until a writer comes."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

import controller.sources.loader.files as files
from controller.sources.loader import LoadCache, LoadResult, load_path, load_root

GOOD = "services:\n  web: {image: nginx}\n"


def within(seconds: float, load: Callable[[], LoadResult]) -> LoadResult:
    """``load()``, failing (instead of hanging the suite) when it blocks, as on a FIFO."""
    out: list[LoadResult] = []
    thread = threading.Thread(target=lambda: out.append(load()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert out, f"the load blocked for more than {seconds} s"
    return out[0]


def fifo(path: Path) -> None:
    os.mkfifo(path)


def directory(path: Path) -> None:
    path.mkdir()


def dangling(path: Path) -> None:
    path.symlink_to("gone.yaml")


def looping(path: Path) -> None:
    path.symlink_to(path.name)


BROKEN = {
    "fifo": (fifo, "not a regular file (a FIFO)"),
    "directory": (directory, "not a regular file (a directory)"),
    "dangling_symlink": (dangling, "a symlink to nothing"),
    "symlink_loop": (looping, "a symlink loop"),
}


def project(root: Path, name: str, make: Callable[[Path], None] | None = None) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    if make is None:
        (folder / "compose.yaml").write_text(GOOD)
    else:
        make(folder / "compose.yaml")
    return folder


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_compose_file_makes_its_folder_an_invalid_source(
    tmp_path: Path, case: str
) -> None:
    make, words = BROKEN[case]
    project(tmp_path, "app", make)
    project(tmp_path, "good")
    result = within(10, lambda: load_root(tmp_path))
    assert set(result.stacks) == {"good"}
    report = result.sources["app"]  # the folder, as the watcher records a folder's source
    assert report.kind == "folder" and report.names == []
    [error] = report.errors
    assert error.file == "app/compose.yaml"
    assert words in error.message, error.message
    assert "cannot be read as a stack" in error.message


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_load_path_and_validate_report_it_too(tmp_path: Path, case: str) -> None:
    make, words = BROKEN[case]
    folder = project(tmp_path, "app", make)
    for path in (folder, folder / "compose.yaml", tmp_path):
        result = within(10, lambda path=path: load_path(path))
        assert result.stacks == {} and len(result.errors) == 1, path
        assert words in result.errors[0].message


def test_the_first_candidate_present_decides_even_when_broken(tmp_path: Path) -> None:
    """As in Compose, ``compose.yaml`` comes first; a broken one is not skipped for the next
    candidate (which could be a stale copy that would then replace the running stack)."""
    folder = project(tmp_path, "app", fifo)
    (folder / "docker-compose.yml").write_text(GOOD)
    result = within(10, lambda: load_root(tmp_path))
    assert result.stacks == {} and "FIFO" in result.sources["app"].errors[0].message


def test_a_fifo_is_never_opened_even_if_it_appears_after_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kind of a file is checked on the opened file too: a swap between the check and the
    open must not block on the FIFO."""
    folder = project(tmp_path, "app")
    target = str(folder / "compose.yaml")
    real_open = os.open

    def swap_then_open(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(path) == target and not os.path.exists(folder / "swapped"):
            (folder / "swapped").write_text("")
            os.unlink(target)
            os.mkfifo(target)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(files.os, "open", swap_then_open)
    result = within(10, lambda: load_root(tmp_path))
    assert result.stacks == {}
    assert "not a regular file" in result.sources["app"].errors[0].message


def test_an_unreadable_compose_file_is_an_invalid_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(tmp_path, "app")
    target = str(tmp_path / "app" / "compose.yaml")
    real_open = os.open

    def deny(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(path) == target:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(files.os, "open", deny)  # the tests may run as root: chmod is moot
    result = load_root(tmp_path)
    assert result.stacks == {}
    [error] = result.sources["app"].errors
    assert error.file == "app/compose.yaml" and "Permission denied" in error.message


def test_an_unsearchable_folder_is_an_invalid_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(tmp_path, "app")
    project(tmp_path, "good")
    inside = str(tmp_path / "app") + os.sep
    if os.geteuid() == 0:  # root searches any folder: the kernel's answer to others, by hand
        real = (os.lstat, os.stat)

        def denied(index: int):  # type: ignore[no-untyped-def]
            def look(path, *args, **kwargs):  # type: ignore[no-untyped-def]
                if str(path).startswith(inside):
                    raise PermissionError(13, "Permission denied", str(path))
                return real[index](path, *args, **kwargs)

            return look

        monkeypatch.setattr(files.os, "lstat", denied(0))
        monkeypatch.setattr(files.os, "stat", denied(1))
    (tmp_path / "app").chmod(0)
    try:
        result = load_root(tmp_path)
    finally:
        (tmp_path / "app").chmod(0o755)
    assert set(result.stacks) == {"good"}
    assert "Permission denied" in result.sources["app"].errors[0].message


def test_a_folder_without_any_candidate_is_still_no_source(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "notes.txt").write_text("x")
    (tmp_path / "files" / "compose.yaml.bak").write_text("x")
    result = load_root(tmp_path)
    assert result.sources == {} and result.errors == []


def test_the_cache_sees_the_compose_file_come_back(tmp_path: Path) -> None:
    folder = project(tmp_path, "app", fifo)
    cache: LoadCache = LoadCache()
    assert within(10, lambda: load_root(tmp_path, cache=cache)).stacks == {}
    (folder / "compose.yaml").unlink()
    (folder / "compose.yaml").write_text(GOOD)
    assert set(load_root(tmp_path, cache=cache).stacks) == {"app"}
    (folder / "compose.yaml").unlink()
    (folder / "compose.yaml").symlink_to("elsewhere.yaml")
    assert load_root(tmp_path, cache=cache).sources["app"].errors
    (folder / "elsewhere.yaml").write_text(GOOD)
    assert set(load_root(tmp_path, cache=cache).stacks) == {"app"}


def test_referenced_files_that_are_fifos_are_never_opened(tmp_path: Path) -> None:
    folder = project(tmp_path, "app")
    (folder / "compose.yaml").write_text(
        "services:\n  web:\n    image: nginx\n    env_file: vars.env\n"
        "    secrets: [s]\nsecrets:\n  s: {file: ./secret}\n"
    )
    os.mkfifo(folder / "vars.env")
    os.mkfifo(folder / "secret")
    os.mkfifo(folder / ".env")
    result = within(10, lambda: load_root(tmp_path))
    messages = [e.message for e in result.errors]
    assert len(messages) == 3 and all("not a regular file" in m for m in messages), messages
