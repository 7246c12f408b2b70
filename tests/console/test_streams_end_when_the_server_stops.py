"""An open log stream never holds the controller up: ``ApiServer.stop()`` ends it (the stream
sees ``app.state.stopping``) and the server's thread finishes, while the command still runs."""

from __future__ import annotations

import http.client
import threading
from pathlib import Path

from controller.db import Database
from controller.models import Command, CommandType
from controller.web.api import create_app
from controller.web.api.server import start_server


def test_stop_ends_an_open_stream(db_path: Path, db: Database, record_stack) -> None:
    record_stack("shop")
    command = db.commands.enqueue(Command(stack_id="shop", type=CommandType.RECONCILE))
    server = start_server(create_app(db_path=db_path), host="127.0.0.1", port=0)
    received: list[bytes] = []
    opened = threading.Event()

    def read() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.request("GET", f"/ui/commands/{command.command_id}/stream")
        response = connection.getresponse()
        assert response.status == 200
        opened.set()
        while chunk := response.read1(1024):
            received.append(chunk)
        connection.close()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert opened.wait(10), "the stream did not open"
    finally:
        server.stop(timeout=20)
    reader.join(20)
    assert not reader.is_alive(), "the stream stayed open after the server stopped"
    assert not server.thread.is_alive(), "the server's thread did not finish"
    assert b"retry:" in b"".join(received)
    assert db.commands.require(command.command_id).status.value == "PENDING"
