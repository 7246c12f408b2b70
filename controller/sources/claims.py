"""Which stack names each source (the watched directory, each repository) declares: one name,
one source. Shared by the sources' watchers (``controller.sources.watcher``) and kept by the
daemon; it
holds names only and never reads a file or the database."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Claims:
    """Which stack names each source (the watched directory, each repository) declared at its
    last pass, shared by their watchers: a name two sources declare is invalid in both, and a
    source whose claims changed nudges the others to look again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._names: dict[str, frozenset[str]] = {}
        self._nudges: dict[str, Callable[[], None]] = {}

    def join(self, source: str, nudge: Callable[[], None]) -> None:
        with self._lock:
            self._nudges[source] = nudge

    def leave(self, source: str) -> None:
        with self._lock:
            self._nudges.pop(source, None)
            gone = self._names.pop(source, None)
            others = list(self._nudges.values()) if gone else []
        for nudge in others:
            nudge()

    def elsewhere(self, source: str) -> dict[str, str]:
        """Every name another source declares -> that source."""
        with self._lock:
            return {
                name: other
                for other, names in sorted(self._names.items())
                if other != source
                for name in names
            }

    def update(self, source: str, names: set[str]) -> None:
        with self._lock:
            frozen = frozenset(names)
            changed = self._names.get(source) != frozen
            self._names[source] = frozen
            others = [n for s, n in self._nudges.items() if s != source] if changed else []
        for nudge in others:
            nudge()
