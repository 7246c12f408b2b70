"""``stackctl get commands``' listing (``COMMANDS``): its columns and a row per command, the same
from the models (``queries.py``) and from the API's JSON (``remote/``). No typer, no models here:
it reads attributes (``command_id``, ``stack_id``, ``type``, ``status``, ``attempts``,
``failures``, the times, ``error``, ``worker_id``).
"""

from __future__ import annotations

from controller.cli.listing import Listing
from controller.cli.output import age, duration, short, timestamp

COMMANDS = Listing(
    kind="command",
    columns=["ID", "STACK", "TYPE", "STATUS", "ATTEMPTS", "AGE", "DURATION", "ERROR"],
    row=lambda c: [
        c.command_id,
        c.stack_id,
        c.type,
        c.status,
        c.attempts,
        age(c.created_at),
        duration(c.started_at, c.ended_at),
        short(c.error),
    ],
    name=lambda c: c.command_id,
    wide_columns=["FAILURES", "CREATED", "NOT BEFORE", "WORKER"],
    wide_row=lambda c: [
        c.failures,
        timestamp(c.created_at),
        c.not_before and timestamp(c.not_before),
        c.worker_id,
    ],
)
