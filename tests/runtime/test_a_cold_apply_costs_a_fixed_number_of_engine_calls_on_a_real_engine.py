"""The calls one cold apply of a one-service stack makes on a real engine, counted by the
requests written to its socket (docker-py's and the plain reads', ``docker.plain_reads``), not
only by ``Engine.calls``: the same figures the memory engine's test pins
(``tests/reconcile/test_a_cold_apply_costs_a_fixed_number_of_engine_calls.py``), so that the
two cannot drift apart (issue 27, goal 3: the engine's create+start of the same container is
two calls)."""

from __future__ import annotations

import re
import socket
from collections import Counter

import pytest

from controller.models import CommandStatus

pytestmark = pytest.mark.engine
METHODS = (b"GET ", b"POST ", b"PUT ", b"DELETE ", b"HEAD ")


@pytest.fixture
def sent(monkeypatch):
    """Every HTTP request written to a socket meanwhile, as ``METHOD /path`` (ids, the query
    and the API version left out)."""
    found: Counter[str] = Counter()
    sendall = socket.socket.sendall

    def recording(self, data, *args):
        if bytes(data[:8]).startswith(METHODS):
            method, target = bytes(data).split(b"\r\n", 1)[0].decode().split(" ")[:2]
            path = re.sub(r"^/v[0-9.]+/", "/", target.split("?")[0])
            path = re.sub(r"^/(containers|images)/.+/(json|start)$", r"/\1/{id}/\2", path)
            found[f"{method} {path}"] += 1
        return sendall(self, data, *args)

    monkeypatch.setattr(socket.socket, "sendall", recording)
    return found


def test_a_new_one_service_stack_costs_eight_calls(h, engine_janitor, test_images, sent):
    name = engine_janitor.project("cold")
    desired = h.stack(name, {"services": {"app": {
        "image": test_images.v1, "command": ["sleep", "3600"], "init": True,
        "network_mode": "none", "pull_policy": "never"}}})
    sent.clear()
    h.engine.calls.reset()
    outcome = h.apply(desired)
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    assert sent.pop("GET /version", 0) <= 1  # docker-py's, once, when it is first made
    assert dict(sent) == {
        "GET /containers/json": 2, "GET /networks": 1, "GET /volumes": 1,
        "GET /images/{id}/json": 1, "POST /containers/create": 1,
        "POST /containers/{id}/start": 1, "GET /containers/{id}/json": 1}
    assert dict(h.engine.calls.counts) == {
        "list_containers": 2, "list_networks": 1, "list_volumes": 1, "inspect_image": 1,
        "create_container": 1, "start": 1, "inspect_container": 1}

    sent.clear()
    h.engine.calls.reset()
    again = h.reconcile(name)
    assert again.command.status is CommandStatus.DONE, again.error
    assert dict(h.engine.calls.counts) == {
        "list_containers": 2, "list_networks": 1, "list_volumes": 1, "inspect_image": 1}
    assert sum(sent.values()) == 5
