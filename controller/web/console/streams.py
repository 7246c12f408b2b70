"""Server-sent events: a command's log, line by line, while it runs.

``GET /ui/commands/{id}/stream`` sends each log line as ``event: line`` (an HTML table row,
``id:`` its ``log_id``) and, once the command has ended, ``event: end`` with its final status
and error, then closes. The browser's ``EventSource`` reconnects by itself after a cut and
sends ``Last-Event-ID``: the stream goes on after that line, so nothing is shown twice or
missed. The log is read every ``POLL_SECONDS`` (two indexed reads; the status is read first,
so a line written before the command ended is always sent before ``end``).

A stream ends when the client goes, when the command ends, when the server stops
(``app.state.stopping``), or after ``MAX_SECONDS`` (the browser reconnects): none holds a
thread, each read runs in the thread pool.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response, StreamingResponse

from controller.db import Database
from controller.db.rows import MAX_ID
from controller.models import Command, CommandLog
from controller.models.access import Action
from controller.web.api import identity
from controller.web.console.auth import access
from controller.web.console.templating import render_text

router = APIRouter(prefix="/ui", include_in_schema=False)

POLL_SECONDS = 0.1
HEARTBEAT_SECONDS = 15.0
MAX_SECONDS = 300.0

CommandId = Annotated[int, Path(ge=1, le=MAX_ID)]


def event(kind: str, html: str, *, event_id: int | None = None) -> str:
    """One server-sent event; each line of ``html`` is a ``data:`` line (the browser joins
    them with newlines)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    data = "".join(f"data: {line}\n" for line in html.splitlines() or [""])
    return f"{head}event: {kind}\n{data}\n"


def _readable(request: Request, stack: str) -> bool:
    labels = identity.labels_of(request, stack)
    return access(request).principal.may(Action.READ, stack, labels)


@router.get("/commands/{command_id}/stream")
async def command_stream(
    request: Request,
    command_id: CommandId,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> Response:
    if not (await asyncio.to_thread(access, request)).can_read:  # a session: a database read
        return Response(status_code=401)
    db: Database = request.app.state.database.get()
    command = await asyncio.to_thread(db.commands.require, command_id)  # 404 before it starts
    if not await asyncio.to_thread(_readable, request, command.stack_id):
        return Response(status_code=403)
    resumed = request.headers.get("last-event-id", "")
    start = int(resumed) if resumed.isdigit() else after
    stopping: threading.Event | None = getattr(request.app.state, "stopping", None)
    return StreamingResponse(
        _events(request, db, command_id, start, stopping),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(
    request: Request,
    db: Database,
    command_id: int,
    after: int,
    stopping: threading.Event | None,
) -> AsyncIterator[str]:
    began = last_sent = time.monotonic()
    yield "retry: 1000\n\n"
    while not (stopping is not None and stopping.is_set()):
        command, lines = await asyncio.to_thread(_read, db, command_id, after)
        for line in lines:
            row = render_text(request, "_log_line.html", line=line)
            yield event("line", row, event_id=line.log_id)
            after = line.log_id or after
        if lines:
            last_sent = time.monotonic()
        if command.status.terminal:
            yield event("end", render_text(request, "_command_status.html", command=command))
            return
        now = time.monotonic()
        if now - began > MAX_SECONDS or await request.is_disconnected():
            return
        if now - last_sent > HEARTBEAT_SECONDS:
            yield ": still running\n\n"
            last_sent = now
        await asyncio.sleep(POLL_SECONDS)


def _read(db: Database, command_id: int, after: int) -> tuple[Command, list[CommandLog]]:
    command = db.commands.require(command_id)  # first: see the module's docstring
    return command, db.command_logs.list(command_id, after_id=after)
