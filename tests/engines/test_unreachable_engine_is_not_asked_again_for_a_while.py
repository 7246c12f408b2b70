"""A remote engine that does not answer opens its circuit: calls fail at once (a
``TransientError`` saying so) for 1 s, doubling up to 30 s while it stays down; the first call
after the delay tries for real, and an answer closes it. An engine answering with an error is
answering. The local engine has no circuit (its socket answers or refuses at once)."""

from __future__ import annotations

import pytest

from controller.backends.docker import Engine
from controller.backends.shared.circuit import Circuit
from controller.desired.engine_spec import EngineSpec
from controller.models.errors import TransientError


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_delay_doubles_up_to_thirty_seconds_and_an_answer_closes_it() -> None:
    clock = Clock()
    circuit = Circuit("edge", clock=clock)
    circuit.check()  # closed: nothing raised
    delays = []
    for _ in range(7):
        circuit.trip("no route")
        with pytest.raises(TransientError, match=r"engine edge is unreachable \(no route\)"):
            circuit.check()
        opened = clock.now
        while circuit.is_open:
            clock.now += 0.5
        delays.append(clock.now - opened)
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    circuit.close()
    circuit.trip("again")
    opened = clock.now
    while circuit.is_open:
        clock.now += 0.5
    assert clock.now - opened == 1.0  # an answer in between starts over


def test_an_engine_that_refuses_is_not_asked_again_until_the_delay_passed() -> None:
    # 127.0.0.1:9 (discard) has no engine: the connection is refused at once.
    engine = Engine(spec=EngineSpec(name="edge", host="tcp://127.0.0.1:9"), timeout=5)
    clock = Clock()
    engine._circuit = Circuit("edge", clock=clock)
    with pytest.raises(TransientError, match="unreachable") as first:
        engine.ping()
    assert "not asked again" not in str(first.value)
    asked = engine.calls.counts["ping"]
    with pytest.raises(TransientError, match=r"engine edge is unreachable .*not asked again"):
        engine.ping()
    assert engine.calls.counts["ping"] == asked  # failed before asking
    clock.now += 1.0
    with pytest.raises(TransientError) as later:
        engine.ping()  # tried for real again
    assert "not asked again" not in str(later.value)


def test_the_local_engine_has_no_circuit() -> None:
    assert Engine()._circuit is None
    assert Engine(spec=EngineSpec(name="lab", host="unix:///run/lab.sock"))._circuit is None
