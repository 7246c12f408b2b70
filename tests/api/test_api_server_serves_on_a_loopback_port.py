"""``start_server`` serves the app from a thread on a real socket, and ``stop`` ends it."""

from __future__ import annotations

import socket

import httpx
import pytest

from controller.models.errors import PermanentError
from controller.web.api import create_app, start_server

TOKEN = "s3cret-token"


def test_serves_reads_writes_and_metrics_then_stops(db_path, seeded, free_port):
    server = start_server(create_app(db_path=db_path, token=TOKEN), host="127.0.0.1",
                          port=free_port)
    try:
        assert server.port == free_port and server.url == f"http://127.0.0.1:{free_port}"
        with httpx.Client(base_url=server.url, timeout=10) as http:
            assert http.get("/healthz").json() == {"status": "ok"}
            assert http.get("/readyz").status_code == 200
            assert http.get("/api/v1/stacks").status_code == 401  # reads need it too
            auth = {"Authorization": f"Bearer {TOKEN}"}
            stacks = http.get("/api/v1/stacks", headers=auth).json()["items"]
            names = [s["name"] for s in stacks]
            assert names == ["blog", "shop"]
            assert http.post("/api/v1/stacks/shop/sync").status_code == 401
            accepted = http.post(
                "/api/v1/stacks/shop/sync", headers={"Authorization": f"Bearer {TOKEN}"}
            )
            assert accepted.status_code == 202
            assert "stackctl_queue_depth" in http.get("/metrics").text
    finally:
        server.stop()
    assert not server.thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{free_port}/healthz", timeout=2)


def test_port_zero_takes_a_free_port(db_path, db):
    server = start_server(create_app(db_path=db_path), host="127.0.0.1", port=0)
    try:
        assert server.port > 0
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
    finally:
        server.stop()


def test_an_address_in_use_is_a_clear_error(db_path, db):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PermanentError, match=f"cannot serve the HTTP API on 127.0.0.1:{port}"):
            start_server(create_app(db_path=db_path), host="127.0.0.1", port=port)
