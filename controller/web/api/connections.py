"""What a connection may hold of the HTTP server: a deadline for a request's headers, a cap on
open connections, and a log that says a repeated accept failure once per interval.

uvicorn has a keep-alive timeout (idle between requests) but nothing for a connection that
opens and never finishes its headers, and ``limit_concurrency`` answers 503 only once a request
arrives; 1,100 such connections exhausted the process's descriptors and asyncio logged a
traceback per failed ``accept()``. Here:

- ``guarded_protocol(...)``: uvicorn's h11 protocol with a header deadline (a connection whose
  request headers are not complete in time gets 408 and is closed), and a connection cap: beyond
  it, the connection waiting longest for headers (or idle between requests) is closed to make
  room, since a real client sends its request at once; when every connection is busy with a
  request, the new one gets 503 and is closed. The cap stays below the descriptor limit.
- ``OncePerInterval``: a logging filter that lets one record of a kind through per interval,
  as one line (no traceback) saying how many were held back since.

Bodies are the webhook route's (``controller.web.api.limits``).
"""

from __future__ import annotations

import asyncio
import logging
import resource
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from email.utils import formatdate
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("stackctl.api")

RESERVED_DESCRIPTORS = 128  # kept for all but connections: database, engines, git, watcher

_TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 27\r\n\r\nthe headers came too slowly"
)
_FULL = (
    b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 5\r\n"
    b"Content-Type: text/plain\r\nContent-Length: 29\r\n\r\ntoo many connections: retry\r\n"
)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header deadline and a connection cap (set per server by
    ``guarded_protocol``, with the server's ``waiting`` connections: no request in progress,
    oldest first, so that making room costs O(1) however many connections are open)."""

    header_timeout: ClassVar[float] = 10.0
    max_connections: ClassVar[int] = 1000
    # Each server's class (``guarded_protocol``) has its own: connections of one server only.
    waiting: ClassVar[OrderedDict[GuardedH11Protocol, None]] = OrderedDict()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections and not self._make_room():
            transport.write(_FULL)
            transport.close()
            return
        self.waiting[self] = None
        self._arm()

    def data_received(self, data: bytes) -> None:
        self._date_header()  # read by the request this may begin
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:
            self._arm()  # a request begun (or the next one, on a kept-alive connection)
        else:
            self._disarm()  # its headers are in: the route's deadlines apply now
            self.waiting.pop(self, None)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self.waiting[self] = None  # idle from now (uvicorn's keep-alive timer runs)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self.waiting.pop(self, None)
        super().connection_lost(exc)

    def _date_header(self) -> None:
        """The server's default headers with this second's Date (uvicorn's main loop did it
        every second, woken ten times a second; ``server.QuietServer``'s sleeps)."""
        second = int(time.time())
        state = self.server_state
        if getattr(state, "date_second", None) != second:
            state.date_second = second  # type: ignore[attr-defined]
            date = [(b"date", formatdate(second, usegmt=True).encode())]
            headers = date if self.config.date_header else []
            state.default_headers = headers + self.config.encoded_headers

    def _make_room(self) -> bool:
        """Close the connection that has waited longest without a request; False if none."""
        if not self.waiting:
            return False
        oldest, _ = self.waiting.popitem(last=False)
        oldest._close(_TIMED_OUT)
        oldest.connections.discard(oldest)  # its connection_lost comes later; count it gone
        return True

    def _arm(self) -> None:
        if self._header_timer is None and not self.transport.is_closing():
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._close(_TIMED_OUT)

    def _close(self, answer: bytes) -> None:
        self._disarm()
        self.waiting.pop(self, None)
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(answer)
        self.transport.close()


def guarded_protocol(*, header_timeout: float, max_connections: int) -> type[GuardedH11Protocol]:
    """A protocol class for one server, with its limits and its own ``waiting`` connections.
    The cap is kept below the descriptors the process may open (``descriptor_room``), so that
    a flood meets the cap, never a failing ``accept()``."""
    cap = max(1, min(max_connections, descriptor_room()))
    if cap < max_connections:
        log.info(
            "HTTP connections capped at %d, not %d: the process may open %d files"
            " (raise LimitNOFILE / ulimit -n)",
            cap,
            max_connections,
            resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        )
    limits = {"header_timeout": header_timeout, "max_connections": cap, "waiting": OrderedDict()}
    return type("GuardedH11Protocol", (GuardedH11Protocol,), limits)


def descriptor_room(reserve: int = RESERVED_DESCRIPTORS) -> int:
    """How many connections the descriptor limit leaves room for, beside ``reserve`` for the
    database, the engines, git and the watcher."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft - reserve if soft != resource.RLIM_INFINITY else 1 << 20


class OncePerInterval(logging.Filter):
    """Lets the first record of a kind (logger and message template) through, then none of that
    kind for ``interval`` seconds; the next one through says how many were held back, and goes
    out as one line, without its traceback (the exception's text is kept)."""

    def __init__(
        self,
        *,
        interval: float = 60.0,
        kinds: Callable[[logging.LogRecord], bool] = lambda _: True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._interval = interval
        self._kinds = kinds
        self._clock = clock
        self._lock = threading.Lock()
        self._next: dict[tuple[str, str], float] = {}
        self._held: dict[tuple[str, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._kinds(record):
            return True
        key = (record.name, str(record.msg).partition("\n")[0])
        now = self._clock()
        with self._lock:
            if now < self._next.get(key, float("-inf")):
                self._held[key] = self._held.get(key, 0) + 1
                return False
            self._next[key] = now + self._interval
            held = self._held.pop(key, 0)
        message = record.getMessage().partition("\n")[0]  # asyncio adds the socket's repr
        if record.exc_info and record.exc_info[1] is not None:
            message += f": {record.exc_info[1]}"
        if held:
            message += f" ({held} more like it in the last {self._interval:g}s not logged)"
        else:
            message += f" (more like it in the next {self._interval:g}s are not logged)"
        record.msg, record.args = message, None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def is_server_noise(record: logging.LogRecord) -> bool:
    """What a flood of connections makes the server say: asyncio's failed ``accept()`` (out of
    descriptors) and its other socket complaints, uvicorn's invalid requests."""
    if record.name == "asyncio" or record.name.startswith("asyncio."):
        return "accept" in str(record.msg) or "socket" in str(record.msg)
    return record.name.startswith("uvicorn") and record.levelno <= logging.WARNING


def quiet_server_noise(interval: float = 60.0) -> OncePerInterval:
    """Install ``OncePerInterval`` on the loggers a flood fills (once per process)."""
    global _installed
    with _install_lock:
        if _installed is None:
            _installed = OncePerInterval(interval=interval, kinds=is_server_noise)
            for name in ("asyncio", "uvicorn.error"):
                logging.getLogger(name).addFilter(_installed)
        return _installed


_installed: OncePerInterval | None = None
_install_lock = threading.Lock()
