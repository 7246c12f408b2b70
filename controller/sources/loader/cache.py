"""Reload only what changed: each top-level entry's load, kept with what it looked at.

Loading a source (parsing YAML, interpolating, validating into the canonical model) costs a few
milliseconds a stack; the watcher reloads the root after every burst of changes, so without a
cache a root of 1,000 stacks took seconds per change. ``LoadCache`` keeps, per top-level entry
of the root (a file, or a folder), the outcome of loading it and the probes that load made
(``controller.sources.loader.files``: every file read, by content hash, every existence check, every
symlink resolved). On the next walk an entry whose probes all see the same again is not loaded
again: its outcome is reused as is. Anything else (a new, changed or removed entry or any file
it referenced) loads afresh, so a cached walk gives what an uncached one would.

Outcomes are shared between walks and must not be mutated after loading (``assembly.assemble``
builds its reports without touching them). One walk at a time: the lock serializes callers.

A root reached through a symlink that now points elsewhere (a repository's ``current`` switched
to the next commit's checkout) keeps its entries when the walk is given a ``rebase``: every
probe and outcome is moved from the old real folder to the new one, so an entry whose files hold
the same bytes there is reused and only what the commit changed is loaded again. Without
``rebase`` such a root starts empty.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from controller.sources.loader.files import Probes, recording, still_true
from controller.sources.loader.root import Root

T = TypeVar("T")
Key = tuple[str, bool]  # (entry name, is a folder)
# (outcome, old real root, new real root) -> the outcome as loaded there, or None: load again.
Rebase = Callable[[T, str, str], T | None]


class LoadCache(Generic[T]):
    """What each entry of one root loaded to; ``hits``/``misses`` count reuses and loads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._root: tuple[str, str] | None = None
        self._entries: dict[Key, tuple[T, Probes]] = {}
        self._seen: set[Key] = set()
        self.hits = 0
        self.misses = 0

    @contextmanager
    def walk(self, where: Root, *, rebase: Rebase[T] | None = None) -> Iterator[LoadCache[T]]:
        """One walk of ``where``. A root that now resolves elsewhere (a swapped release
        symlink) starts empty, or with its entries moved there by ``rebase``; entries the walk
        did not meet are forgotten at its end."""
        with self._lock:
            root = (str(where.given), str(where.real))
            if root != self._root:
                old = self._root
                if old is not None and old[0] == root[0] and rebase is not None:
                    self._entries = _moved(self._entries, old[1], root[1], rebase)
                else:
                    self._entries.clear()
                self._root = root
            self._seen = set()
            yield self
            for key in self._entries.keys() - self._seen:
                del self._entries[key]

    def load(self, key: Key, load: Callable[[], T]) -> T:
        """The cached outcome of ``key`` while everything it looked at is unchanged, else
        ``load()`` (recorded for next time)."""
        self._seen.add(key)
        cached = self._entries.get(key)
        if cached is not None and still_true(cached[1]):
            self.hits += 1
            return cached[0]
        with recording() as probes:
            value = load()
        self._entries[key] = (value, probes)
        self.misses += 1
        return value


def move_path(path: str, old: str, new: str) -> str:
    """``path`` under the real root ``old`` as the same path under ``new`` (else unchanged)."""
    if path == old:
        return new
    if path.startswith(old + "/"):
        return new + path[len(old) :]
    return path


def _moved(
    entries: dict[Key, tuple[T, Probes]], old: str, new: str, rebase: Rebase[T]
) -> dict[Key, tuple[T, Probes]]:
    moved: dict[Key, tuple[T, Probes]] = {}
    for key, (value, probes) in entries.items():
        rebased = rebase(value, old, new)
        if rebased is None:
            continue
        moved[key] = (
            rebased,
            {
                (kind, move_path(path, old, new)): (
                    move_path(seen, old, new) if isinstance(seen, str) else seen
                )
                for (kind, path), seen in probes.items()
            },
        )
    return moved
