"""``stackctl run``'s limits of the HTTP API (issue 24, item 5): flags beat STACKCTL_API_* which
beat the defaults, the defaults are the API's own, a value it cannot use is a usage error, and a
real controller started with them holds to them over HTTP."""

from __future__ import annotations

import socket
from dataclasses import fields

import pytest
from helpers.controller_process import ControllerProcess, wait_for
from typer.testing import CliRunner

from controller.cli import app
from controller.config.settings import Settings, load_settings
from controller.daemon.process import DaemonOptions
from controller.web.api.limits import MIB, HookLimits
from controller.web.api.server import HEADER_TIMEOUT, MAX_CONNECTIONS

runner = CliRunner()
FLAGS = {
    "api_body_budget": ("--api-body-budget", "7", 7),
    "api_body_timeout": ("--api-body-timeout", "2.5", 2.5),
    "api_header_timeout": ("--api-header-timeout", "4", 4.0),
    "api_max_connections": ("--api-max-connections", "64", 64),
}


def _default(kind: type, name: str) -> object:
    return next(f.default for f in fields(kind) if f.name == name)


def test_the_defaults_are_the_apis():
    assert _default(Settings, "api_body_budget") * MIB == HookLimits().body_budget
    assert _default(Settings, "api_body_timeout") == HookLimits().body_timeout
    assert _default(Settings, "api_header_timeout") == HEADER_TIMEOUT
    assert _default(Settings, "api_max_connections") == MAX_CONNECTIONS
    for name in FLAGS:
        assert _default(Settings, name) == _default(DaemonOptions, name), name


@pytest.mark.parametrize("name", sorted(FLAGS))
def test_flags_beat_the_environment(name):
    _, raw, value = FLAGS[name]
    environ = {"HOME": "/h", f"STACKCTL_{name.upper()}": raw}
    assert getattr(load_settings({}, environ=environ), name) == value
    assert getattr(load_settings({name: 1}, environ=environ), name) == 1


@pytest.mark.parametrize("name", sorted(FLAGS))
def test_zero_is_a_usage_error(name, tmp_path):
    args = ["run", "--no-api", "--db", str(tmp_path / "s.db"), "--manifests", str(tmp_path)]
    done = runner.invoke(app, [*args, FLAGS[name][0], "0"])
    assert done.exit_code == 2 and not (tmp_path / "s.db").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.settimeout(30)
        sock.sendall(request)
        got = b""
        while chunk := sock.recv(65536):
            got += chunk
    return got


@pytest.mark.engine
def test_a_controller_started_with_the_flags_holds_to_them(tmp_path):
    port = _free_port()
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    controller = ControllerProcess(
        manifests, tmp_path / "stackctl.db",
        extra=("--api", f"127.0.0.1:{port}", "--api-body-budget", "1",
               "--api-body-timeout", "0.5", "--api-header-timeout", "3",
               "--api-max-connections", "2"),
    ).start()  # fmt: skip
    try:
        wait_for(lambda: b"200 OK" in _exchange(port, b"GET /healthz HTTP/1.1\r\n"
                                                      b"Host: 127.0.0.1\r\n"
                                                      b"Connection: close\r\n\r\n"),
                 what="the API")  # fmt: skip
        signed = (
            "POST /api/v1/hooks/git HTTP/1.1\r\nHost: 127.0.0.1\r\nX-GitHub-Event: push\r\n"
            f"X-Hub-Signature-256: sha256={'0' * 64}\r\nContent-Length: {2 * MIB}\r\n\r\n"
        ).encode()
        assert _exchange(port, signed).startswith(b"HTTP/1.1 503")  # 2 MiB > a 1 MiB budget
        late = signed.replace(str(2 * MIB).encode(), b"100") + b"{"
        assert _exchange(port, late).startswith(b"HTTP/1.1 408")  # 99 bytes never come
        unended = _exchange(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line
        assert unended.startswith(b"HTTP/1.1 408") and b"headers came too slowly" in unended
        with socket.create_connection(("127.0.0.1", port), timeout=30) as first:
            first.settimeout(30)
            with socket.create_connection(("127.0.0.1", port), timeout=30) as second:
                assert b"200 OK" in _exchange(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                    b"Connection: close\r\n\r\n")  # fmt: skip
                assert first.recv(100).startswith(b"HTTP/1.1 408")  # made room (cap 2)
                # (the header deadline, 3 s, would have closed both: the second is open)
                assert second.send(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") > 0
                assert second.recv(100).startswith(b"HTTP/1.1 200")
    finally:
        assert controller.stop() == 0
