"""``start_server``: serve an app with uvicorn in a background thread of the daemon.

The socket is bound here, before the thread starts, so that an address in use is an error the
caller sees at once (and port 0 means "any free port": ``ApiServer.port`` is the real one).
uvicorn installs signal handlers only in the main thread, so running ``Server.run`` in a thread
leaves SIGTERM/SIGINT to the daemon, which calls ``stop()``. Connections are served by
``controller.web.api.connections``' protocol (a header deadline, a connection cap) and a flood's
log lines are said once per interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from controller.models.errors import PermanentError
from controller.web.api.connections import guarded_protocol, quiet_server_noise

START_TIMEOUT = 10.0
HEADER_TIMEOUT = 10.0  # seconds for a request's headers (--api-header-timeout)
MAX_CONNECTIONS = 1000  # open connections at once (--api-max-connections)
BACKLOG = 128


class QuietServer(uvicorn.Server):
    """uvicorn's server whose main loop sleeps until ``exit`` instead of ticking every 0.1 s
    (the protocol keeps the Date header current: ``GuardedH11Protocol``)."""

    _loop: asyncio.AbstractEventLoop | None = None
    _exit: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._exit = asyncio.Event()
        self._loop = asyncio.get_running_loop()  # both set before should_exit is read
        await self.on_tick(0)  # the first Date header
        if not self.should_exit:
            await self._exit.wait()

    def exit(self) -> None:
        """End ``main_loop`` (from any thread): then uvicorn shuts down as it does."""
        self.should_exit = True
        loop, event = self._loop, self._exit
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # closed: the server is done already
                loop.call_soon_threadsafe(event.set)


@dataclass
class ApiServer:
    server: QuietServer
    thread: threading.Thread
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        """End the live streams, finish the requests in flight, close the socket and end
        the thread."""
        stopping = getattr(getattr(self.server.config.app, "state", None), "stopping", None)
        if stopping is not None:
            stopping.set()
        self.server.exit()
        self.thread.join(timeout)


def start_server(
    app: FastAPI,
    *,
    host: str,
    port: int,
    header_timeout: float = HEADER_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
) -> ApiServer:
    """Serve ``app`` on ``host:port`` until ``stop()``; returns once it accepts connections.
    A connection has ``header_timeout`` seconds for each request's headers; at most
    ``max_connections`` are open at once."""
    sock = _bind(host, port)
    bound = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        http=guarded_protocol(header_timeout=header_timeout, max_connections=max_connections),
        backlog=BACKLOG,
    )
    quiet_server_noise()  # after Config: uvicorn configures its loggers there
    server = QuietServer(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="stackctl-api", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.exit()
            sock.close()
            raise PermanentError(f"the HTTP API on {host}:{port} did not start")
        time.sleep(0.02)
    return ApiServer(server, thread, host, bound)


def _bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as e:
        raise PermanentError(f"cannot serve the HTTP API on {host}:{port}: {e}") from e
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as e:
        sock.close()
        raise PermanentError(f"cannot serve the HTTP API on {host}:{port}: {e}") from e
    return sock
