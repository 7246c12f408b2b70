"""A ``kind: swarm`` engine may name several managers: ``host`` is then a list, every address
checked like one host, one ``tls``/``ssh`` for all; a Docker engine's list is refused naming
the file and the key. ``host`` stays the first address and one address reads as before.
Connecting tries them in order, and the circuit opens only when none answers (the failover
itself, on a real swarm: ``test_swarm_goes_on_through_another_manager``)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from controller.backends.swarm.engine import SwarmEngine
from controller.desired.engine_spec import EngineSpec
from controller.models.errors import ManifestError, TransientError
from controller.sources.loader.engines_file import load_engines

TLS = "tls: {ca: ca.pem, cert: cert.pem, key: key.pem}"


def write(folder: Path, text: str) -> Path:
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (folder / name).write_text("x")
    path = folder / "engines.yaml"
    path.write_text(text)
    return path


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then let go)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_swarm_takes_a_list_of_managers_and_one_host_reads_as_before(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "engines:\n"
        "  prod:\n"
        "    kind: swarm\n"
        "    host: ['tcp://10.0.0.1:2376', 'tcp://10.0.0.2:2376']\n"
        f"    {TLS}\n"
        f"  one: {{kind: swarm, host: 'tcp://10.0.0.3:2376', {TLS}}}\n"
        f"  listed-once: {{kind: swarm, host: ['tcp://10.0.0.4:2376'], {TLS}}}\n",
    )
    engines = load_engines(path)
    prod = engines["prod"]
    assert prod.host == "tcp://10.0.0.1:2376"  # the first: what one-address callers read
    assert prod.hosts == ("tcp://10.0.0.1:2376", "tcp://10.0.0.2:2376")
    assert prod.remote and prod.tls is not None
    assert prod.describe() == "prod (tcp://10.0.0.1:2376 or tcp://10.0.0.2:2376, TLS, swarm)"
    one = engines["one"]
    assert one.hosts == (one.host,) == ("tcp://10.0.0.3:2376",)
    assert one.describe() == "one (tcp://10.0.0.3:2376, TLS, swarm)"
    listed = engines["listed-once"]
    assert (listed.host, listed.hosts) == ("tcp://10.0.0.4:2376", ("tcp://10.0.0.4:2376",))
    assert engines["local"].host is None and engines["local"].hosts == ()
    # Made in code: either name gives the same spec.
    made = EngineSpec(name="p", kind="swarm", hosts=("unix:///a", "unix:///b"))
    assert made == EngineSpec.model_validate(
        {"name": "p", "kind": "swarm", "host": ["unix:///a", "unix:///b"]}
    )
    assert made.host == "unix:///a"


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (
            "engines:\n  edge: {host: ['tcp://h:1', 'tcp://h:2']}\n",
            "engines.edge.host",
            "for kind: swarm only",
        ),
        (  # one address in a list is still a list: a Docker engine has one host
            "engines:\n  edge: {kind: docker, host: ['tcp://h:1']}\n",
            "engines.edge.host",
            "for kind: swarm only",
        ),
        (
            "engines:\n  sw: {kind: swarm, host: ['tcp://h:1', 'http://h:2']}\n",
            "engines.sw.host",
            "host 'http://h:2' must start with unix://, tcp:// or ssh:// (ssh://user@host)"
            " (address 2 of 2)",
        ),
        (
            "engines:\n  sw: {kind: swarm, host: ['http://h:1', 'tcp://h:2']}\n",
            "engines.sw.host",
            "(address 1 of 2)",
        ),
        (
            "engines:\n  sw: {kind: swarm, host: ['ssh://u@h', 'ssh://u@h:port']}\n",
            "engines.sw.host",
            "port",
        ),
        (
            "engines:\n  sw: {kind: swarm, host: ['ssh://u@h', 'ssh://u@h2/path']}\n",
            "engines.sw.host",
            "ssh://user@host",
        ),
        ("engines:\n  sw: {kind: swarm, host: ['tcp://h:1', 5]}\n", "engines.sw.host.1", "string"),
        ("engines:\n  sw: {kind: swarm, host: []}\n", "engines.sw.host", "at least one"),
        (
            f"engines:\n  sw: {{kind: swarm, host: ['tcp://h:1', 'unix:///s'], {TLS}}}\n",
            "engines.sw.host",
            "same scheme",
        ),
        (
            "engines:\n  sw: {kind: swarm, host: ['tcp://h:1', 'tcp://h:1']}\n",
            "engines.sw.host",
            "listed twice",
        ),
        (
            "engines:\n  sw: {kind: swarm, hosts: ['tcp://h:1', 'tcp://h:2']}\n",
            "engines.sw.hosts",
            "unknown key",
        ),
    ],
)
def test_a_bad_list_names_the_file_the_key_and_the_problem(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ManifestError) as caught:
        load_engines(path)
    assert caught.value.file == str(path)
    assert caught.value.path == key
    assert problem in caught.value.message


def test_the_circuit_opens_only_when_no_manager_answers() -> None:
    dead = [f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"]
    engine = SwarmEngine(spec=EngineSpec(name="prod", kind="swarm", hosts=tuple(dead)), timeout=5)
    assert engine._circuit is not None
    with pytest.raises(TransientError) as caught:
        engine.ping()
    said = str(caught.value)
    assert "no address answers" in said
    assert dead[0] in said and dead[1] in said  # both were tried, each named
    assert engine._circuit.is_open
