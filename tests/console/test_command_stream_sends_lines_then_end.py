"""``GET /ui/commands/{id}/stream``: each log line as ``event: line`` with ``id:`` its log id,
then ``event: end`` with the final status; ``Last-Event-ID`` resumes after that line; an
unknown command is 404; reads protected and no session is 401."""

from __future__ import annotations

import re

import pytest

from controller.db import Database
from controller.models import Command, CommandType, LogLevel


@pytest.fixture
def ended(db: Database, record_stack) -> Command:
    """A command that ran with two log lines and failed."""
    record_stack("shop")
    command = db.commands.enqueue(Command(stack_id="shop", type=CommandType.RECONCILE))
    assert db.commands.claim(worker_id="w") is not None
    db.command_logs.add(command.command_id, LogLevel.INFO, "first step")
    db.command_logs.add(command.command_id, LogLevel.ERROR, "second step")
    return db.commands.fail(command.command_id, error="it broke", worker_id="w")


def events(body: str) -> list[dict[str, str]]:
    """The stream's events: each a dict of field -> value (data lines joined)."""
    out = []
    for block in body.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith(":"):
                continue
            key, _, value = line.partition(": ")
            fields[key] = fields[key] + "\n" + value if key in fields else value
        if "event" in fields:
            out.append(fields)
    return out


def test_lines_then_end(make_console, db, ended) -> None:
    ids = [line.log_id for line in db.command_logs.list(ended.command_id)]
    assert len(ids) == 2
    answer = make_console().get(f"/ui/commands/{ended.command_id}/stream")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    got = events(answer.text)
    assert [e["event"] for e in got] == ["line", "line", "end"]
    assert [e.get("id") for e in got[:2]] == [str(i) for i in ids]
    assert "first step" in got[0]["data"]
    assert "second step" in got[1]["data"]
    assert "id" not in got[2]
    assert 'data-status="FAILED"' in got[2]["data"]
    assert "it broke" in got[2]["data"]


def test_last_event_id_resumes_after_that_line(make_console, db, ended) -> None:
    first, second = (line.log_id for line in db.command_logs.list(ended.command_id))
    client = make_console()
    answer = client.get(
        f"/ui/commands/{ended.command_id}/stream", headers={"Last-Event-ID": str(first)}
    )
    got = events(answer.text)
    assert [e["event"] for e in got] == ["line", "end"]
    assert got[0]["id"] == str(second)
    assert "second step" in got[0]["data"]
    assert "first step" not in answer.text
    after = client.get(f"/ui/commands/{ended.command_id}/stream", params={"after": first})
    assert [e.get("id") for e in events(after.text)] == [str(second), None]


def test_unknown_command_is_404(make_console, ended) -> None:
    assert make_console().get("/ui/commands/99999/stream").status_code == 404


def test_protected_reads_without_session_are_401(
    make_console, ended, console_token, sign_in
) -> None:
    client = make_console(token=console_token)
    answer = client.get(f"/ui/commands/{ended.command_id}/stream")
    assert answer.status_code == 401
    assert "first step" not in answer.text
    sign_in(client, console_token)
    assert client.get(f"/ui/commands/{ended.command_id}/stream").status_code == 200


def test_a_command_ended_while_followed(make_console, db, record_stack) -> None:
    """A command ended by the worker's cancel path (RUNNING -> CANCELLED) ends the stream."""
    record_stack("shop")
    command = db.commands.enqueue(Command(stack_id="shop", type=CommandType.RECONCILE))
    assert db.commands.claim(worker_id="w") is not None
    db.commands.request_cancel(command.command_id, reason="test")
    db.commands.cancel_running(command.command_id, worker_id="w")
    got = events(make_console().get(f"/ui/commands/{command.command_id}/stream").text)
    assert got[-1]["event"] == "end"
    assert re.search(r'data-status="CANCELLED"', got[-1]["data"])
