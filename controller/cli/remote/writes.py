"""The writes through the API: ``sync``, ``rollback``, ``suspend``, ``resume``, ``cancel``.

Each asks the controller (``POST /api/v1/stacks/NAME/...``, ``/commands/ID/cancel``), which
checks the caller's role on the stack, records the change in its audit log under the caller's
name and queues a command; the lines printed are the local command's. ``--wait`` follows the
command through the API (its log lines, then its outcome; a superseded APPLY into the one that
superseded it) until it ends or ``--timeout``: exit 0 when it is DONE (``cancel``: CANCELLED),
1 otherwise. ``-o json|yaml`` prints the command's JSON (its last state with ``--wait``) and the
lines go to stderr, as locally.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from controller.cli.plain_io import echo
from controller.cli.remote.client import Client, quoted
from controller.cli.remote.reads import print_data
from controller.config.shared import TIMEOUT_SECONDS
from controller.models.enums import CommandStatus

POLL_SECONDS = 0.5
SUPERSEDING = ("APPLY_STACK_VERSION", "DELETE_STACK")
Add = Callable[..., argparse.ArgumentParser]


def add_commands(add: Add) -> None:
    for name, text in (
        ("sync", "Reconcile the stack now."),
        ("suspend", "Stop converging the stack until resumed."),
        ("resume", "Unpin and unsuspend the stack; apply its latest version."),
    ):
        sub = add(name, act, text)
        sub.add_argument("stack")
        wait_options(sub)
    rollback = add("rollback", act, "Apply an older version again and pin the stack.")
    rollback.add_argument("stack")
    rollback.add_argument("version", nargs="?", help="v3 or 3 (default: the last applied).")
    wait_options(rollback)
    cancel = add("cancel", cancel_command, "Stop a command.")
    cancel.add_argument("command_id", type=int)
    wait_options(cancel)


def wait_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", action="store_true", help="Follow the command to its end.")
    parser.add_argument("--no-wait", dest="wait", action="store_false", help=argparse.SUPPRESS)
    parser.add_argument(
        "--timeout",
        type=float,
        default=TIMEOUT_SECONDS,
        help="Seconds --wait follows it (default %(default)g).",
    )


def _said(word: str, stack: str, command: dict[str, Any]) -> str:
    """What the local command prints when it has queued ``command``."""
    queued = f"queued command {command['command_id']} ({command['type']})"
    payload = command.get("payload") or {}
    match word:
        case "rollback":
            return (
                f"{stack}: rolled back to {payload.get('rollback_to')} as"
                f" {payload.get('version')}; pinned until `stackctl resume {stack}`\n{queued}"
            )
        case "suspend":
            return f"{stack}: suspended\n{queued}"
        case "resume":
            return f"{stack}: resumed; applying {payload.get('version')}\n{queued}"
        case _:
            return f"{stack}: {queued}"


def act(session: Any, found: argparse.Namespace) -> int:
    """``sync``, ``suspend``, ``resume`` or ``rollback`` STACK."""
    word = found.handler_name
    body = {"version": found.version} if word == "rollback" and found.version else None
    command = session.client.post(f"/stacks/{quoted(found.stack)}/{word}", body)
    table = session.output == "table"
    echo(_said(word, found.stack, command), err=not table)
    return _finish(session, command, wait=found.wait, timeout=found.timeout, wanted="DONE")


def cancel_command(session: Any, found: argparse.Namespace) -> int:
    command = session.client.post(f"/commands/{found.command_id}/cancel")
    table = session.output == "table"
    stack = command["stack_id"]
    if command["status"] == CommandStatus.CANCELLED:  # nothing to wait for
        echo(f"{stack}: command {found.command_id} cancelled", err=not table)
        return _finish(session, command, wait=False, timeout=0, wanted="CANCELLED")
    else:
        echo(
            f"{stack}: command {found.command_id} is {command['status']}; asked to stop at its"
            " next step",
            err=not table,
        )
    return _finish(session, command, wait=found.wait, timeout=found.timeout, wanted="CANCELLED")


def _finish(
    session: Any, command: dict[str, Any], *, wait: bool, timeout: float, wanted: str
) -> int:
    table = session.output == "table"
    if wait:
        command = wait_for(
            session.client, command, timeout=timeout, say=lambda line: echo(line, err=not table)
        )
        echo(outcome_line(command), err=not table)
        if not CommandStatus(command["status"]).terminal:
            echo(
                f"still {command['status']} after {timeout:g}s; follow it with `stackctl"
                f" --server {session.client.server} describe {command['stack_id']}`",
                err=True,
            )
    if not table:
        print_data(command, session.output)
    return 1 if wait and command["status"] != wanted else 0


def outcome_line(command: dict[str, Any]) -> str:
    """``shop: command 12 DONE`` / ``shop: command 12 FAILED: why`` (``running.outcome_line``)."""
    line = f"{command['stack_id']}: command {command['command_id']} {command['status']}"
    if command["status"] == CommandStatus.PENDING and command.get("not_before"):
        line += " (will retry)"
    return f"{line}: {command['error']}" if command.get("error") else line


def wait_for(
    client: Client, command: dict[str, Any], *, timeout: float, say: Callable[[str], None]
) -> dict[str, Any]:
    """The command's last state, its log lines said as they come; a SUPERSEDED one followed
    into the APPLY (or DELETE) that superseded it; ``timeout`` for all of it."""
    deadline = time.monotonic() + timeout
    while True:
        command = follow(client, command, deadline=deadline, say=say)
        successor = _successor(client, command)
        if successor is None:
            return command
        say(f"{command['stack_id']}: command {command['command_id']} superseded by"
            f" {successor['command_id']}")  # fmt: skip
        command = successor


def follow(
    client: Client, command: dict[str, Any], *, deadline: float, say: Callable[[str], None]
) -> dict[str, Any]:
    """Print the command's log lines until it ends or ``deadline`` passes; its last state."""
    after = 0
    path = f"/commands/{command['command_id']}"
    while True:
        logs = client.get(f"{path}/logs", {"after": after})  # status first, then the lines
        for line in logs["items"]:
            say(f"[{command['stack_id']}] {line['message']}")
        after = logs["next_after"]
        if CommandStatus(logs["command_status"]).terminal or time.monotonic() >= deadline:
            return client.get(path)
        time.sleep(POLL_SECONDS)


def _successor(client: Client, command: dict[str, Any]) -> dict[str, Any] | None:
    if command["status"] != CommandStatus.SUPERSEDED:
        return None
    listed = client.get("/commands", {"stack": command["stack_id"], "limit": 50})["items"]
    newer = [
        c for c in listed if c["command_id"] > command["command_id"] and c["type"] in SUPERSEDING
    ]
    return min(newer, key=lambda c: c["command_id"]) if newer else None
