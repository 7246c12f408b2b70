"""``Circuit``: a remote engine that does not answer is not asked again for a while.

A remote engine (``tcp://``, ``ssh://``) can be unreachable in the slow way: packets dropped,
each call waiting for its timeout. Without a memory of that, every worker that picks one of its
stacks' commands would wait that long, and the queue would stall for every other engine. So the
first call that finds it unreachable opens the circuit: for ``delay`` seconds (1 s, doubling up
to 30 s while it stays down) every call fails at once with a ``TransientError`` saying so, and
the command retries with its own backoff; the first call after the delay tries for real, and a
success closes the circuit. Only "unreachable" opens it (no connection, a timeout): an engine
that answers with an error is answering.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from controller.models.errors import TransientError

FIRST_DELAY = 1.0
MAX_DELAY = 30.0


class Circuit:
    def __init__(self, name: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._open_until = 0.0
        self._delay = 0.0
        self._why = ""

    def check(self) -> None:
        """Raise at once while the circuit is open."""
        with self._lock:
            left = self._open_until - self._clock()
            if left > 0:
                raise TransientError(
                    f"engine {self._name} is unreachable ({self._why}); not asked again for"
                    f" {left:.0f}s"
                )

    def trip(self, why: str) -> None:
        """The engine was found unreachable: open (or keep open, longer)."""
        with self._lock:
            self._delay = min(MAX_DELAY, self._delay * 2) if self._delay else FIRST_DELAY
            self._open_until = self._clock() + self._delay
            self._why = why

    def close(self) -> None:
        """The engine answered."""
        with self._lock:
            self._delay, self._open_until, self._why = 0.0, 0.0, ""

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._open_until > self._clock()
