"""A local HTTP server on 127.0.0.1 that records what arrives: notification destinations and
forge status APIs in the delivery tests.

``Recorder.answer(path_prefix, status)`` makes requests under a path answer ``status``;
``Recorder.hold(path_prefix)`` makes them hang until ``release()`` (a destination that hangs).
Stopped by the fixture that starts it, whatever the test did.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Recorder:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._answers: dict[str, int] = {}
        self._held: set[str] = set()
        self._release = threading.Event()
        self._lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                request = Request(
                    "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                status = recorder._handle(request)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"{}")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # a client that gave up waiting (the held requests)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _handle(self, request: Request) -> int:
        if any(request.path.startswith(p) for p in self._held):
            self._release.wait(timeout=60)
        with self._lock:
            self.requests.append(request)
            for prefix, status in self._answers.items():
                if request.path.startswith(prefix):
                    return status
        return 200

    def answer(self, prefix: str, status: int) -> None:
        with self._lock:
            self._answers[prefix] = status

    def hold(self, prefix: str) -> None:
        self._held.add(prefix)

    def release(self) -> None:
        self._release.set()

    def received(self, prefix: str = "/") -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(prefix)]

    def wait_for(self, prefix: str, count: int = 1, *, timeout: float = 30) -> list[Request]:
        deadline = time.monotonic() + timeout
        while True:
            got = self.received(prefix)
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(got)} of {count} requests to {prefix} arrived")
            time.sleep(0.05)

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
