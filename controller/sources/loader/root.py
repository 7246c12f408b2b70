"""The watched root and where its files may point: every referenced path resolved, confined to
the root (symlinks included) and stored relative to the root as given.

Within ``one_pass()`` (one walk of a root) a path is resolved once, and from its folder's
resolved form (one ``lstat`` instead of one per component), and a reference is located once:
a five-service stack took 26 ``lstat`` calls, now 3. A file that changes during the pass is
then seen as it was first seen, which is what the pass's probes record anyway (each resolution
is noted as a probe, ``files.seen``).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from controller.sources.loader.files import FileProblem, check_path_text, seen


@dataclass(frozen=True)
class RootPath:
    """A path inside the root: ``path`` to open, ``rel`` the root-relative posix form to store."""

    path: Path
    rel: str


@dataclass(frozen=True)
class _Located:
    """What ``Root.locate`` found: the joined and the resolved path, and the answer."""

    joined: str
    real: str
    where: RootPath | None = None
    problem: str | None = None


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
        check_path_text(ref)
        if ref.startswith("~"):
            raise FileProblem(f"`{ref}`: a home-relative path cannot be inside the watched root")
        current = _pass.get()
        if current is None:
            located = self._locate(base=base, ref=ref)
        else:  # one pass: the answer of the first time, and its probe noted again
            key = (self._given_prefix, self._real_prefix, os.fspath(base), ref)
            located = current.located.get(key)
            if located is None:
                located = current.located[key] = self._locate(base=base, ref=ref)
            else:
                seen("realpath", located.joined, value=located.real)
        if located.problem is not None:
            raise FileProblem(located.problem)
        return located.where  # type: ignore[return-value]  # set when there is no problem

    def _locate(self, *, base: Path, ref: str) -> _Located:
        # `..` is folded lexically for the stored form; the confinement check below uses the
        # resolved path, so a symlink cannot smuggle a reference out of the root.
        joined = os.path.normpath(os.path.join(base, ref))
        real = realpath(joined)
        if not (real + "/").startswith(self._real_prefix):
            return _Located(joined, real, problem=f"`{ref}` resolves outside the watched root")
        if (joined + "/").startswith(self._given_prefix):
            rel = joined[len(self._given_prefix) :]
        else:
            # Absolute reference spelled through the resolved root: store it the same way.
            rel = real[len(self._real_prefix) :]
        return _Located(joined, real, where=RootPath(path=Path(joined), rel=rel or "."))

    def rel(self, path: Path) -> str:
        """Root-relative posix form of a path found by walking the root."""
        absolute = os.path.abspath(path)
        if absolute.startswith(self._given_prefix):  # what pathlib would say, without it
            return absolute[len(self._given_prefix) :] or "."
        rel = Path(absolute).relative_to(self.given).as_posix()
        return rel or "."


def realpath(path: Path | str) -> str:
    """The path with every symlink resolved (``os.path.realpath``)."""
    real = _resolved(os.fspath(path))
    seen("realpath", path, value=real)
    return real


@dataclass
class _Pass:
    """What one pass (``one_pass``) has resolved: paths, and references located in a root."""

    resolved: dict[str, str] = field(default_factory=dict)
    located: dict[tuple[str, str, str, str], _Located] = field(default_factory=dict)


_pass: ContextVar[_Pass | None] = ContextVar("stackctl_source_pass", default=None)


@contextmanager
def one_pass() -> Iterator[None]:
    """Resolve each path once in this block (and this thread): one walk of a root."""
    token = _pass.set(_Pass())
    try:
        yield
    finally:
        _pass.reset(token)


def _resolved(path: str) -> str:
    current = _pass.get()
    if current is None:
        return os.path.realpath(path)
    real = current.resolved.get(path)
    if real is None:
        real = current.resolved[path] = _resolve_last(path)
    return real


def _resolve_last(path: str) -> str:
    """``os.path.realpath(path)`` from its folder's (cached) resolved form: it resolves a
    path component by component, so the folder's result is where it stands before the last
    one, which it follows only if that is a symlink (then the whole path is resolved here)."""
    head, tail = os.path.split(path)
    if not os.path.isabs(path) or head == path or tail in ("", ".", ".."):
        return os.path.realpath(path)
    candidate = os.path.join(_resolved(head), tail)
    try:
        link = stat.S_ISLNK(os.lstat(candidate).st_mode)
    except OSError:
        link = False  # as realpath takes it: nothing there, so no link to follow
    return os.path.realpath(path) if link else candidate
