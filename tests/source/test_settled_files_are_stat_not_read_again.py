"""A file still for a while is known unchanged by its ``stat`` alone (issue 27, goal 3): the
watcher's pass over 10,000 unchanged manifests read and hashed every one. A change the
``stat`` shows (even one whose mtime was set back to the old one) is read again, and so is a
file changed just before it was read (git's "racily clean" rule)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from controller.sources.loader import files
from controller.sources.loader.files import read_bytes, recording, still_true


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every file read, by path; settled means changed more than 2 s ago (made so here)."""
    done: list[str] = []
    real = files._read_bytes

    def spy(path: Path) -> tuple[bytes, os.stat_result]:
        done.append(str(path))
        return real(path)

    monkeypatch.setattr(files, "_read_bytes", spy)
    monkeypatch.setattr(files, "SETTLED_NS", 0)
    return done


def probes_of(path: Path) -> dict:
    with recording() as probes:
        read_bytes(path)
    return probes


def test_a_settled_unchanged_file_is_not_read_again(tmp_path: Path, reads: list[str]) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text("a: 1\n")
    probes = probes_of(path)
    reads.clear()
    assert still_true(probes) and still_true(probes)
    assert reads == []


def test_a_same_size_change_with_its_mtime_set_back_is_read(
    tmp_path: Path, reads: list[str]
) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text("a: 1\n")
    probes = probes_of(path)
    old = path.stat()
    path.write_text("a: 2\n")
    os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))  # the ctime still moves
    reads.clear()
    assert not still_true(probes)
    assert reads == [str(path)]


def test_a_file_replaced_by_another_is_read(tmp_path: Path, reads: list[str]) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text("a: 1\n")
    probes = probes_of(path)
    (tmp_path / "next").write_text("a: 2\n")
    os.replace(tmp_path / "next", path)
    assert not still_true(probes)


def test_a_file_changed_just_before_its_read_is_read_every_time(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "SETTLED_NS", 3600 * 10**9)  # nothing written here is settled
    path = tmp_path / "shop.yaml"
    path.write_text("a: 1\n")
    probes = probes_of(path)
    reads.clear()
    assert still_true(probes) and still_true(probes)
    assert reads == [str(path), str(path)]
