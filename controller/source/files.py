"""Files of the watched root: which ones count, how they are read, and where they may point.

Owns the discovery ignore rules (hidden files, editor temp files), the 1 MiB size limit, the
binary-content check, and the confinement of every referenced path to the root, symlinks
included. It must never write, never read a file whose resolved location is outside the root,
and never consult the process environment.

Every look at the file system made while loading goes through this module (``read_bytes``,
``exists``, ``is_file``, ``is_dir``, ``realpath``, ``Root.locate``) and is noted as a *probe*
when a ``recording()`` is active: what was asked and what was seen (a file's content by its
SHA-256). ``still_true(probes)`` asks again; when every answer is the same, loading the source
again would give the same result, which is what lets the watcher reload only what changed
(``controller.source.cache``). Contents are compared, not modification times: two writes of the
same size within one clock tick keep the mtime, not the content.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_BYTES = 1024 * 1024
COMPOSE_FILE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
YAML_SUFFIXES = (".yaml", ".yml")


class FileProblem(Exception):
    """A referenced file that cannot be used; ``message`` is meant for people."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def is_ignored(name: str) -> bool:
    """Editor droppings and hidden entries are never sources (vim writes ``4913`` to probe)."""
    return (
        name.startswith(".")
        or name.endswith(("~", ".tmp", ".swp"))
        or (name.startswith("#") and name.endswith("#"))
        or name == "4913"
    )


@dataclass(frozen=True)
class RootPath:
    """A path inside the root: ``path`` to open, ``rel`` the root-relative posix form to store."""

    path: Path
    rel: str


class Root:
    """The watched directory, kept both as given (for stored paths) and resolved (for checks).

    Stored paths are relative to the root *as given*, so that a root reached through a symlink
    (``manifests -> releases/42``) yields the same paths, hence the same digests, after the
    symlink moves to another release.
    """

    def __init__(self, path: Path) -> None:
        self.given = Path(os.path.abspath(path))
        self.real = self.given.resolve()
        # String forms: os.path is several times faster than pathlib on this hot path.
        self._given_prefix = str(self.given).rstrip("/") + "/"
        self._real_prefix = str(self.real).rstrip("/") + "/"

    def locate(self, *, base: Path, ref: str) -> RootPath:
        """Resolve ``ref`` (relative to the folder ``base``, or absolute) and confine it."""
        if not ref:
            raise FileProblem("empty path")
        if ref.startswith("~"):
            raise FileProblem(f"`{ref}`: a home-relative path cannot be inside the watched root")
        # `..` is folded lexically for the stored form; the confinement check below uses the
        # resolved path, so a symlink cannot smuggle a reference out of the root.
        joined = os.path.normpath(os.path.join(base, ref))
        real = realpath(joined)
        if not (real + "/").startswith(self._real_prefix):
            raise FileProblem(f"`{ref}` resolves outside the watched root")
        if (joined + "/").startswith(self._given_prefix):
            rel = joined[len(self._given_prefix) :]
        else:
            # Absolute reference spelled through the resolved root: store it the same way.
            rel = real[len(self._real_prefix) :]
        return RootPath(path=Path(joined), rel=rel or ".")

    def rel(self, path: Path) -> str:
        """Root-relative posix form of a path found by walking the root."""
        rel = Path(os.path.abspath(path)).relative_to(self.given).as_posix()
        return rel or "."


def read_bytes(path: Path) -> bytes:
    """Read a regular file of at most 1 MiB."""
    try:
        data = _read_bytes(path)
    except FileProblem as e:
        _seen("file", path, value=f"problem: {e.message}")
        raise
    _seen("file", path, value=hashlib.sha256(data).hexdigest())
    return data


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise FileProblem("file not found")
    if not path.is_file():
        raise FileProblem("not a regular file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise FileProblem(f"file is {size} bytes, more than the 1 MiB limit")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise FileProblem(f"cannot read: {e.strerror or e}") from e
    if len(data) > MAX_FILE_BYTES:  # grew between stat and read
        raise FileProblem("file is more than the 1 MiB limit")
    return data


def read_text(path: Path) -> str:
    """Read a UTF-8 text file of at most 1 MiB; NUL bytes or invalid UTF-8 mean binary."""
    data = read_bytes(path)
    if b"\x00" in data:
        raise FileProblem("binary content (NUL bytes); expected a UTF-8 text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FileProblem(f"binary content (not UTF-8 at byte {e.start})") from e


def find_compose_file(folder: Path) -> tuple[Path | None, list[str]]:
    """The folder's compose file by Compose's precedence, and the names it shadows."""
    present = [name for name in COMPOSE_FILE_NAMES if is_file(folder / name)]
    if not present:
        return None, []
    return folder / present[0], present[1:]


# -- probes: what a load looked at ----------------------------------------------------------

# (kind, path) -> what was seen the first time it was asked in the recording: if a file changed
# in the middle of a load, asking again sees the new state, differs, and the load is redone.
Probes = dict[tuple[str, str], object]

_probes: ContextVar[Probes | None] = ContextVar("stackctl_source_probes", default=None)


def _seen(kind: str, path: Path | str, *, value: object) -> None:
    probes = _probes.get()
    if probes is not None:
        probes.setdefault((kind, str(path)), value)


def _file_state(path: str) -> str:
    try:
        return hashlib.sha256(_read_bytes(Path(path))).hexdigest()
    except FileProblem as e:
        return f"problem: {e.message}"


def exists(path: Path) -> bool:
    found = path.exists()
    _seen("exists", path, value=found)
    return found


def is_file(path: Path) -> bool:
    found = path.is_file()
    _seen("is_file", path, value=found)
    return found


def is_dir(path: Path) -> bool:
    found = path.is_dir()
    _seen("is_dir", path, value=found)
    return found


def realpath(path: Path | str) -> str:
    """The path with every symlink resolved (``os.path.realpath``)."""
    real = os.path.realpath(path)
    _seen("realpath", path, value=real)
    return real


_ASK_AGAIN: dict[str, Callable[[str], object]] = {
    "file": _file_state,
    "exists": os.path.exists,
    "is_file": os.path.isfile,
    "is_dir": os.path.isdir,
    "realpath": os.path.realpath,
}


@contextmanager
def recording() -> Iterator[Probes]:
    """Note every probe made in this block (and this thread) into the mapping it yields."""
    probes: Probes = {}
    token = _probes.set(probes)
    try:
        yield probes
    finally:
        _probes.reset(token)


def still_true(probes: Probes) -> bool:
    """Every probe, asked again, sees what it saw."""
    return all(_ASK_AGAIN[kind](path) == seen for (kind, path), seen in probes.items())
