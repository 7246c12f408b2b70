"""The audit log as a table (``AUDIT``): who did what to which stack, when, through which
surface, and how it ended. No typer, no models: it reads the attributes of an
``AuditEntry`` (``controller.models.audit``) or of the API's JSON of one (``remote/``).
"""

from __future__ import annotations

from controller.cli.listing import Listing
from controller.cli.output import short, timestamp

AUDIT = Listing(
    kind="audit",
    columns=["TIME", "WHO", "SURFACE", "ACTION", "STACK", "VERSION", "COMMAND", "RESULT"],
    row=lambda e: [
        timestamp(e.at),
        e.who,
        e.surface,
        e.action,
        e.stack_id,
        e.version,
        e.command_id,
        e.result,
    ],
    name=lambda e: e.entry_id,
    # KIND: the kind of identity (user, token, admin-token, webhook, cli); VIA: the token a
    # person used; DETAIL: the refusal's or failure's message.
    wide_columns=["KIND", "VIA", "ADDRESS", "DETAIL"],
    wide_row=lambda e: [e.who_kind, e.via, e.address, short(e.detail, 100)],
)
