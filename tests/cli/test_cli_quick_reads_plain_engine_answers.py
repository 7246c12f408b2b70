"""The pieces the quick ``logs``, ``version`` and ``describe`` read the engine with, without
docker-py (``backends/docker/plain_api.py``, ``cli/quick_engine.py``, ``cli/output.echo``): each
reads what docker-py (or click) would, and says no to what it does not expect."""

from __future__ import annotations

import importlib.metadata
import json

import pytest

from controller.backends.docker.plain_api import (
    _assigned_version,
    demultiplexed,
    docker_py_version,
    local_socket,
)
from controller.backends.shared.log_stream import log_lines as docker_log_lines
from controller.cli.output import echo
from controller.cli.quick_engine import log_lines


def frame(stream: int, data: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


def test_a_multiplexed_stream_is_its_frames_in_order():
    body = frame(1, b"out 1\nout") + frame(2, b" 2\r\nerr\n") + frame(1, b"last")
    assert demultiplexed(body) == b"out 1\nout 2\r\nerr\nlast"
    assert demultiplexed(b"") == b""
    assert demultiplexed(body[:-1]) is None  # a frame cut short
    assert demultiplexed(b"\x07" + body[1:]) is None  # not a stream number


@pytest.mark.parametrize(
    "stream", [b"", b"a\nb\n", b"a\r\nb", b"\n\n", b"caf\xc3\xa9\nbad \xff\n", b"no newline"]
)
def test_log_lines_are_those_of_the_docker_py_path(stream):
    chunks = [stream[i : i + 3] for i in range(0, len(stream), 3)]
    assert log_lines(stream) == list(docker_log_lines(iter(chunks), doing="reading"))


def test_docker_py_version_is_docker_dot_version():
    assert docker_py_version() == importlib.metadata.version("docker")
    assert _assigned_version("__version__: str\n__version__ = version = '7.2.0'\n") == "7.2.0"
    assert _assigned_version('__version__ = "1.0"\n') == "1.0"
    assert _assigned_version("__version__ = get_version()\n") is None


def test_the_local_socket_is_the_one_docker_py_would_use(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert local_socket({}) == "/var/run/docker.sock"
    assert local_socket({"DOCKER_HOST": "unix:///run/other.sock"}) == "/run/other.sock"
    assert local_socket({"DOCKER_HOST": "tcp://127.0.0.1:2375"}) is None
    assert local_socket({"DOCKER_TLS_VERIFY": "1"}) is None
    assert local_socket({"DOCKER_CONTEXT": "remote"}) is None
    assert local_socket({"DOCKER_CONTEXT": "default"}) == "/var/run/docker.sock"
    config = tmp_path / ".docker"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"currentContext": "remote"}))
    assert local_socket({}) is None
    assert local_socket({"DOCKER_HOST": "unix:///run/other.sock"}) == "/run/other.sock"
    (config / "config.json").write_text(json.dumps({"currentContext": "default"}))
    assert local_socket({}) == "/var/run/docker.sock"
    (config / "config.json").write_text("{not json")
    assert local_socket({}) == "/var/run/docker.sock"  # docker-py reads it as default


def test_echo_drops_ansi_escapes_off_a_terminal_as_click_does(capsys):
    import click

    text = "plain \x1b[31mred\x1b[0m \x1b]8;;link\x1b\\ end"
    echo(text)
    click.echo(text)
    ours, theirs = capsys.readouterr().out.split("\n")[:2]
    assert ours == theirs
