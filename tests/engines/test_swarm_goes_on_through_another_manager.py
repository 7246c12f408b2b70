"""A swarm named by several managers, on the real single-node swarm (``swarm_engine``).

A first address nothing listens on is passed over: a stack converges through the second. And
a manager going down while in use costs at most one call: a TCP forwarder on 127.0.0.1 stands
for manager A (the session's swarm cannot be stopped; the engine's certificate names 127.0.0.1,
so TLS holds through it), the swarm's own address is manager B; once the forwarder stops, the
next observe goes through B and the circuit stays closed.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from helpers.harness import make_harness

from controller.backends.docker import Engine
from controller.backends.engines import Engines
from controller.backends.swarm.engine import SwarmEngine
from controller.desired.engine_spec import EngineSpec, TlsFiles
from controller.models import CommandStatus
from controller.models.errors import TransientError

pytestmark = [pytest.mark.engine, pytest.mark.slow]

SLEEPER = {"command": ["sleep", "3600"], "init": True, "deploy": {"endpoint_mode": "dnsrr"}}


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then let go)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tls_of(swarm_engine: Any) -> TlsFiles:
    return TlsFiles(ca=swarm_engine.ca, cert=swarm_engine.cert, key=swarm_engine.key)


class Forwarder:
    """127.0.0.1:``port`` forwarded to ``target``, until ``stop()``: then its port refuses and
    every connection it carried is closed, as when a manager goes down."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.accepted = 0
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                near, _ = self._listener.accept()
            except OSError:
                return  # stopped
            try:
                far = socket.create_connection(self._target, timeout=5)
            except OSError:
                near.close()
                continue
            far.settimeout(None)
            with self._lock:
                self._open += [near, far]
                self.accepted += 1
            for source, sink in ((near, far), (far, near)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()

    def stop(self) -> None:
        # shutdown() wakes the accept() blocked in the thread (close() alone would not).
        for s in [self._listener, *self._open]:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        self._thread.join(timeout=5)


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    for s in (source, sink):
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def forwarder(swarm_engine: Any) -> Iterator[Forwarder]:
    port = urlsplit(swarm_engine.host).port
    assert port is not None
    forwarding = Forwarder(("127.0.0.1", port))
    yield forwarding
    forwarding.stop()


def test_a_stack_converges_through_the_second_address_when_the_first_is_dead(
    swarm_engine: Any, test_images: Any, tmp_path: Path
) -> None:
    dead = f"tcp://127.0.0.1:{free_port()}"
    spec = EngineSpec(
        name="prod", kind="swarm", hosts=(dead, swarm_engine.host), tls=tls_of(swarm_engine)
    )
    engines = Engines({"prod": spec}, local=Engine())
    engine = engines.get("prod")
    assert isinstance(engine, SwarmEngine)
    h = make_harness(tmp_path, engine=engines, wait_timeout=60)
    client = swarm_engine.client()
    compose = {"services": {"web": {"image": test_images.v1, **SLEEPER}}}
    try:
        outcome = h.apply(h.stack("swmgr", compose, target={"engine": "prod"}))
        assert outcome.command.status is CommandStatus.DONE, (
            outcome.error,
            h.log_messages(outcome),
        )
        assert engine._client.address == swarm_engine.host
        found = client.services.list(filters={"label": "com.docker.stack.namespace=swmgr"})
        assert [s.name for s in found] == ["swmgr_web"]
    finally:
        deleted = h.delete("swmgr")
        h.db.close()
        leftovers = [s.name for s in client.services.list() if s.name.startswith("swmgr")]
        leftovers += [n.name for n in client.networks.list() if n.name.startswith("swmgr")]
        client.close()
    assert deleted.command.status is CommandStatus.DONE, deleted.error
    assert not leftovers, leftovers


def test_a_manager_going_down_costs_at_most_one_call(
    swarm_engine: Any, forwarder: Forwarder
) -> None:
    through_a = f"tcp://127.0.0.1:{forwarder.port}"
    spec = EngineSpec(
        name="prod", kind="swarm", hosts=(through_a, swarm_engine.host), tls=tls_of(swarm_engine)
    )
    engine = SwarmEngine(spec=spec, timeout=10)
    assert engine._circuit is not None
    engine.observe("swmgr-nothing")
    assert engine._client.address == through_a
    assert forwarder.accepted >= 1  # really through A

    forwarder.stop()  # manager A goes down
    failed = []
    for _ in range(2):
        try:
            snapshot = engine.observe("swmgr-nothing")
            break
        except TransientError as e:
            failed.append(str(e))
    else:
        pytest.fail(f"no observe succeeded after A went down: {failed}")
    assert len(failed) <= 1, failed
    assert all("unreachable" in said for said in failed), failed
    assert snapshot.stack == "swmgr-nothing" and not snapshot.services
    assert engine._client.address == swarm_engine.host
    assert not engine._circuit.is_open
    engine.observe_fleet()  # and it stays on B
    assert engine._client.address == swarm_engine.host
