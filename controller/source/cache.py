"""Reload only what changed: each top-level entry's load, kept with what it looked at.

Loading a source (parsing YAML, interpolating, validating into the canonical model) costs a few
milliseconds a stack; the watcher reloads the root after every burst of changes, so without a
cache a root of 1,000 stacks took seconds per change. ``LoadCache`` keeps, per top-level entry
of the root (a file, or a folder), the outcome of loading it and the probes that load made
(``controller.source.files``: every file read, by content hash, every existence check, every
symlink resolved). On the next walk an entry whose probes all see the same again is not loaded
again: its outcome is reused as is. Anything else (a new, changed or removed entry or any file
it referenced) loads afresh, so a cached walk gives what an uncached one would.

Outcomes are shared between walks and must not be mutated after loading (``loader._assemble``
builds its reports without touching them). One walk at a time: the lock serializes callers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from controller.source.files import Probes, Root, recording, still_true

T = TypeVar("T")
Key = tuple[str, bool]  # (entry name, is a folder)


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
    def walk(self, where: Root) -> Iterator[LoadCache[T]]:
        """One walk of ``where``. A root that now resolves elsewhere (a swapped release
        symlink) starts empty; entries the walk did not meet are forgotten at its end."""
        with self._lock:
            root = (str(where.given), str(where.real))
            if root != self._root:
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
