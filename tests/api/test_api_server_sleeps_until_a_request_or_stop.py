"""The API server's main loop sleeps until ``stop`` (issue 27, goal 4): uvicorn's woke ten
times a second, to keep the Date header current and to look at ``should_exit``. The protocol
keeps the Date header current itself, and ``stop`` ends the server at once."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from types import SimpleNamespace

import httpx

from controller.web.api import connections, create_app, start_server


def test_the_date_header_is_current_on_a_kept_alive_connection(db_path, db, monkeypatch):
    server = start_server(create_app(db_path=db_path), host="127.0.0.1", port=0)
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            first = parsedate_to_datetime(http.get("/healthz").headers["date"]).timestamp()
            assert abs(first - time.time()) < 5
            later = time.time() + 3600  # an hour on: the same connection, a new Date
            clock = SimpleNamespace(time=lambda: later, monotonic=time.monotonic)
            monkeypatch.setattr(connections, "time", clock)
            then = parsedate_to_datetime(http.get("/healthz").headers["date"]).timestamp()
            assert abs(then - later) < 5
    finally:
        server.stop()


def test_stop_ends_the_sleeping_main_loop(db_path, db):
    server = start_server(create_app(db_path=db_path), host="127.0.0.1", port=0)
    assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
    server.stop(timeout=10)
    assert not server.thread.is_alive()
    server.server.exit()  # again, its loop closed: nothing happens
