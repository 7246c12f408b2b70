"""``ps STACK`` and ``logs STACK [SERVICE]`` through the API: what the controller's engine runs
for a stack (``GET /api/v1/stacks/NAME/containers``) and the containers' output (``.../logs``).

The controller asks the engine the stack targets, as the local commands do; the lines printed
are theirs. Over the API ``ps`` needs a STACK (the local ``ps`` alone lists the local engine's
containers), and ``logs`` reads what is there (``--tail``, ``--since``, ``-t``) without
``--follow``: an HTTP answer ends.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from controller.cli.plain_io import echo
from controller.cli.remote.client import RemoteError, quoted
from controller.cli.remote.reads import print_data

Add = Callable[..., argparse.ArgumentParser]


def add_commands(add: Add) -> None:
    ps = add("ps", list_containers, "The stack's containers on the engine it targets.")
    ps.add_argument("stack", nargs="?")
    logs = add("logs", show_logs, "The containers' output, each line prefixed with its source.")
    logs.add_argument("stack")
    logs.add_argument("service", nargs="?", help="Only this service's containers.")
    logs.add_argument("-n", "--tail", type=int, help="The last N lines of each.")
    logs.add_argument("--since", help="Lines since a duration ago (30s, 10m, 2h) or an ISO time.")
    logs.add_argument("-t", "--timestamps", action="store_true", help="Show the engine's times.")
    logs.add_argument("-f", "--follow", action="store_true", help=argparse.SUPPRESS)


def list_containers(session: Any, found: argparse.Namespace) -> int:
    from controller.cli.describe_text import print_tables
    from controller.cli.remote.views import views

    if found.stack is None:
        raise RemoteError("give a STACK: over --server, ps shows one stack's containers", code=2)
    listing = session.client.get(f"/stacks/{quoted(found.stack)}/containers", {"view": "ps"})
    if session.output != "table":
        print_data(listing["data"], session.output)
        return 0
    print_tables(views(listing["tables"]), echo=echo)
    return 0


def show_logs(session: Any, found: argparse.Namespace) -> int:
    if found.follow:
        raise RemoteError("--follow is not available over --server (an HTTP answer ends)", code=2)
    if found.tail is not None and found.tail < 0:
        raise RemoteError("--tail: give 0 or more lines", code=2)
    query = {
        "service": found.service,
        "tail": found.tail,
        "since": since_time(found.since) if found.since else None,
    }
    answer = session.client.get(f"/stacks/{quoted(found.stack)}/logs", query)
    items = answer["items"]
    width = max((len(item["source"]) for item in items), default=0)
    for item in items:
        stamp, _, text = item["line"].partition(" ")
        echo(f"{item['source']:<{width}} | " + (f"{stamp} {text}" if found.timestamps else text))
    if answer.get("truncated"):
        echo("(more lines than the controller sends at once: narrow with --tail or --since)",
             err=True)  # fmt: skip
    return 0


_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def since_time(text: str, *, now: datetime | None = None) -> str:
    """``30s``, ``10m``, ``2h``, ``1d`` ago, or an ISO time (as the local ``logs --since``), as
    the ISO time the API takes."""
    match = _DURATION.match(text.strip())
    if match:
        amount, unit = int(match.group(1)), _UNITS[match.group(2)]
        return ((now or datetime.now(UTC)) - timedelta(**{unit: amount})).isoformat()
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise RemoteError(
            f"--since {text!r}: give a duration (30s, 10m, 2h, 1d) or an ISO time", code=2
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()
