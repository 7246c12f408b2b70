"""An engine's read calls without docker-py (``controller/backends/docker/plain_reads.py``) are
docker-py's: the same requests, the same answers; anything not as expected is the same call
made through docker-py (its answer, its error), and every other call is docker-py's."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from controller.backends.docker.plain_api import DEFAULT_SOCKET, local_socket
from controller.backends.docker.plain_reads import PlainReads
from controller.backends.shared.calls import EngineConnection
from controller.desired.engine_spec import EngineSpec


class FakeApi:
    """docker-py's client, as far as the tests ask: what it was asked, and its answer."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.asked.append((name, args, kwargs))
            return f"docker-py {name}"

        return call


@contextlib.contextmanager
def engine_answering(path: Path, status: str, body: bytes) -> Iterator[list[str]]:
    """A unix socket at ``path`` answering every request with ``status`` and ``body``; yields
    the request lines it got."""
    lines: list[str] = []
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                lines.append(conn.recv(65536).decode().split("\r\n")[0])
                head = f"HTTP/1.0 {status}\r\nContent-Type: application/json\r\n\r\n"
                conn.sendall(head.encode() + body)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield lines
    finally:
        server.close()


READS = [
    ("containers", (), {"all": True, "filters": {"label": ["a=b"]}}),
    ("containers", (), {"all": True, "filters": {"name": "shop"}}),
    ("networks", (), {"filters": {"label": ["a=b"]}}),
    ("networks", (), {"filters": {"name": "shop_default"}}),
    ("volumes", (), {"filters": {"label": ["a=b"]}}),
    ("volumes", (), {}),
    ("inspect_container", ("0123abcd",), {}),
    ("inspect_image", ("stackctl-test/busybox:1",), {}),
]


def test_reads_send_what_docker_py_sends(tmp_path: Path):
    """The request lines, as docker-py (7.x) sends them (without its ``/vX.Y`` prefix: the
    engine's newest API, which is the version docker-py negotiates)."""
    api = FakeApi()
    reads = PlainReads(str(tmp_path / "s"), timeout=5, api=lambda: api)
    with engine_answering(tmp_path / "s", "200 OK", b'[{"Id": "x"}]') as lines:
        answers = [getattr(reads, name)(*args, **kwargs) for name, args, kwargs in READS]
    assert answers == [[{"Id": "x"}]] * len(READS)
    assert api.asked == []
    filters = "filters=%7B%22label%22%3A+%5B%22a%3Db%22%5D%7D"
    assert lines == [
        f"GET /containers/json?limit=-1&all=1&size=0&trunc_cmd=0&{filters} HTTP/1.0",
        "GET /containers/json?limit=-1&all=1&size=0&trunc_cmd=0"
        "&filters=%7B%22name%22%3A+%5B%22shop%22%5D%7D HTTP/1.0",
        f"GET /networks?{filters} HTTP/1.0",
        "GET /networks?filters=%7B%22name%22%3A+%5B%22shop_default%22%5D%7D HTTP/1.0",
        f"GET /volumes?{filters} HTTP/1.0",
        "GET /volumes HTTP/1.0",
        "GET /containers/0123abcd/json HTTP/1.0",
        "GET /images/stackctl-test/busybox:1/json HTTP/1.0",
    ]


@pytest.mark.parametrize(("status", "body"), [("404 Not Found", b"{}"), ("200 OK", b"no")])
def test_an_answer_not_as_expected_is_docker_pys(tmp_path: Path, status: str, body: bytes):
    api = FakeApi()
    reads = PlainReads(str(tmp_path / "s"), timeout=5, api=lambda: api)
    with engine_answering(tmp_path / "s", status, body):
        answers = [getattr(reads, name)(*args, **kwargs) for name, args, kwargs in READS]
    assert answers == [f"docker-py {name}" for name, _, _ in READS]
    # The same call (a keyword left out is given its default, as docker-py's own).
    assert [(n, a, {k: v for k, v in kw.items() if v is not None}) for n, a, kw in api.asked] == [
        (n, a, {"all": False, **kw} if n == "containers" else kw) for n, a, kw in READS
    ]


def test_no_engine_and_other_calls_are_docker_pys(tmp_path: Path):
    api = FakeApi()
    reads = PlainReads(str(tmp_path / "none"), timeout=5, api=lambda: api)
    assert reads.ping() == "docker-py ping"
    assert reads.inspect_container({"Id": "x"}) == "docker-py inspect_container"
    assert reads.create_network("n", driver="bridge") == "docker-py create_network"
    assert [name for name, _, _ in api.asked] == ["ping", "inspect_container", "create_network"]


def test_ping_answers_ok(tmp_path: Path):
    api = FakeApi()
    reads = PlainReads(str(tmp_path / "s"), timeout=5, api=lambda: api)
    with engine_answering(tmp_path / "s", "200 OK", b"OK"):
        assert reads.ping() is True
    assert api.asked == []


def test_only_an_engine_on_a_local_socket_is_read_so(monkeypatch: pytest.MonkeyPatch):
    """As docker-py's ``from_env`` reaches it: a unix socket without TLS, no host in the
    engines file, no client given."""
    monkeypatch.delenv("DOCKER_TLS_VERIFY", raising=False)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{DEFAULT_SOCKET}")
    assert local_socket({"DOCKER_HOST": f"unix://{DEFAULT_SOCKET}"}) == DEFAULT_SOCKET
    assert isinstance(EngineConnection()._api, PlainReads)
    assert not isinstance(EngineConnection(client=FakeApi())._reads, PlainReads)
    remote = EngineSpec(name="far", host="tcp://10.0.0.1:2376")
    assert EngineConnection(spec=remote)._reads is None
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")
    assert EngineConnection()._reads is None


@pytest.mark.engine
def test_the_same_answers_as_docker_py_on_the_engine(docker_client, engine_janitor, test_images):
    """What a stack's observation reads, read both ways from the real engine."""
    name = engine_janitor.project()
    labels = engine_janitor.labels()
    network = docker_client.networks.create(f"{name}_default", labels=labels)
    engine_janitor.register(network)
    volume = docker_client.volumes.create(f"{name}_data", labels=labels)
    engine_janitor.register(volume)
    container = docker_client.containers.create(
        test_images.v1, ["sleep", "60"], name=f"{name}-app-1", labels=labels
    )
    socket_path = local_socket(os.environ)
    if socket_path is None:
        pytest.skip("the engine is not reached over a local unix socket")
    reads = PlainReads(socket_path, timeout=30, api=lambda: pytest.fail("docker-py asked"))
    project = {"label": [next(f"{k}={v}" for k, v in labels.items())]}
    calls = [
        ("containers", (), {"all": True, "filters": project}),
        ("containers", (), {"all": True, "filters": {"name": name}}),
        ("networks", (), {"filters": project}),
        ("networks", (), {"filters": {"name": network.name}}),
        ("volumes", (), {"filters": project}),
        ("inspect_container", (container.id,), {}),
        ("inspect_image", (test_images.v1,), {}),
    ]
    for method, args, kwargs in calls:
        ours = getattr(reads, method)(*args, **kwargs)
        theirs = getattr(docker_client.api, method)(*args, **kwargs)
        assert json.dumps(ours, sort_keys=True) == json.dumps(theirs, sort_keys=True), method
    assert reads.ping() is True


def test_an_engine_that_does_not_answer_is_waited_for_once(tmp_path: Path):
    """An engine that accepts the connection but never answers: the read raises at its
    timeout, and docker-py is not asked to wait as long again; the error is an unreachable
    engine's (``shared.translate``)."""
    from controller.backends.shared.translate import translate
    from controller.models.errors import TransientError

    path = tmp_path / "silent.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()
    api = FakeApi()
    try:
        reads = PlainReads(str(path), timeout=0.2, api=lambda: api)
        with pytest.raises(TimeoutError) as raised:
            reads.containers(all=True, filters={"name": "shop"})
    finally:
        server.close()
    assert api.asked == []
    error = translate(raised.value, doing="listing containers of shop")
    assert isinstance(error, TransientError)
    assert "listing containers of shop: engine unreachable" in str(error)
