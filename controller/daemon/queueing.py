"""What a kill or a database fault lost goes back to the queue.

At every start, and again once the database takes writes after faults (the ``recovery``
thread), an APPLY is queued for every stack whose desired version is not applied and that has
no pending command. (The watcher runs its own failed passes again.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from controller.daemon.life import Life, backoff
from controller.db import Database
from controller.models import Command, CommandType
from controller.models.errors import StackctlError

log = logging.getLogger("stackctl.controller")

RECOVERY_MAX = 60.0  # seconds: the longest it goes without a look at the faults met


def queue_unapplied(db: Database) -> None:
    """An APPLY for every stack whose desired version is not applied and that has no
    pending command: whatever was lost to a kill (a command, a failed attempt's retry) is
    queued again at every start. Runs after the first scan, so a stack whose manifest is
    gone has its DELETE queued first and gets no APPLY. A suspended stack gets none: it
    would change nothing, and it reads Suspended whatever is applied."""
    for stack in db.stacks.list():
        if stack.current_version in (None, stack.applied_version) or stack.suspended:
            continue
        command, created = db.commands.enqueue_unless_pending(
            Command(
                stack_id=stack.stack_id,
                type=CommandType.APPLY_STACK_VERSION,
                payload={
                    "version": stack.current_version,
                    "reason": f"controller start: {stack.current_version} is not applied",
                },
            )
        )
        if created:
            log.info(
                "%s: %s is not applied (applied: %s); queued command %s",
                stack.stack_id,
                stack.current_version,
                stack.applied_version or "none",
                command.command_id,
            )


def queue_after_faults(db: Database, *, life: Life, queue: Callable[[], None]) -> None:
    """Call ``queue`` (``queue_unapplied``, then wake the workers) again, with backoff, after
    database faults were met (``Database.faults`` moved): what the start could not queue is
    queued once the database takes writes again. It looks when a write to the database is
    heard (``Life.changes``: the lease's renewal writes every few seconds, once the database
    takes writes again), or every ``RECOVERY_MAX`` at most; not every second."""
    seen, failures, heard = 0, 0, 0
    while not life.stop.is_set():
        if failures:  # the whole backoff: a write heard does not cut it short
            life.stop.wait(backoff(failures))
        else:
            heard = life.changes.wait(heard, RECOVERY_MAX)
        faults = db.faults
        if faults == seen or life.stop.is_set():
            continue
        try:
            queue()
        except StackctlError:  # still failing: again after the backoff
            failures += 1
            continue
        if failures:
            log.info("the database takes writes again: the stacks not applied are queued")
        seen, failures = faults, 0
