"""Keep the database bounded: every ``COMPACT_EVERY`` seconds (the first time ``COMPACT_FIRST``
seconds after the start, once start-up is done), delete the finished commands, log lines,
events and audit log entries the retention policy no longer keeps (the audit log's by its own
age, ``--audit-days``), in short transactions (``db.retention``). A database fault is tried
again at the next period.
"""

from __future__ import annotations

import logging

from controller.daemon.life import Life
from controller.db import Database, RetentionPolicy
from controller.models.errors import StackctlError

log = logging.getLogger("stackctl.controller")

COMPACT_FIRST = 60.0  # seconds after the start before the first compaction (start-up first)
COMPACT_EVERY = 3600.0  # seconds between compactions


def compact(db: Database, *, policy: RetentionPolicy, life: Life) -> None:
    """Compact ``db`` by ``policy`` every period until stopped."""
    delay = COMPACT_FIRST
    while not life.stop.wait(delay):
        delay = COMPACT_EVERY
        try:
            done = db.retention.compact(policy, stop=life.stop.is_set)
        except StackctlError as e:
            log.warning("compaction: %s (tried again in %.0fs)", e, COMPACT_EVERY)
            continue
        if done.commands or done.events or done.audit_entries:
            log.info(
                "compaction: deleted %d finished command(s) with %d log line(s), %d"
                " event(s) and %d audit log row(s) in %d transaction(s) (longest %.3fs)",
                done.commands,
                done.command_logs,
                done.events,
                done.audit_entries,
                done.transactions,
                done.longest_transaction_s,
            )
