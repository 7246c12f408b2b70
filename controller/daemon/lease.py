"""The single-controller lease on the database: taken at start (a second controller exits with
``AlreadyRunning``), renewed every ``LEASE_TTL / 3`` seconds by its own thread, released at stop.

The renewal also checks that the database file is still the one the controller opened (deleted
or replaced, the controller stops with an error, exit 1), and puts back in the queue the commands
whose worker stopped (their claim expired).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from pathlib import Path

from controller.commands.liveness import holder_gone
from controller.daemon.life import Life
from controller.db import Database
from controller.models.errors import AlreadyRunning, PermanentError, StackctlError

log = logging.getLogger("stackctl.controller")

LEASE_TTL = 15.0


def dead_holder(db: Database) -> str | None:
    """The holder of a lease left by a controller of this host whose process is gone (killed):
    its lease and its commands' claims can be taken back without waiting for them to expire."""
    lease = db.leases.live()
    return lease.holder if lease is not None and holder_gone(lease) else None


def take_lease(db: Database, *, path: Path) -> tuple[str, str | None]:
    """Take the lease on ``db`` (the file at ``path``): this controller's holder name, and the
    dead controller's it took over, if any. Held by a live controller, ``db`` is closed and
    ``AlreadyRunning`` raised."""
    holder = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    dead = dead_holder(db)
    lease = db.leases.acquire(
        holder=holder, pid=os.getpid(), hostname=socket.gethostname(), ttl=LEASE_TTL, take_over=dead
    )
    if lease is None:
        other = db.leases.live()
        db.close()
        raise AlreadyRunning(
            f"another stackctl run holds {path} (pid {other.pid if other else '?'} on "
            f"{other.hostname if other else '?'}); stop it first or use another --db"
        )
    return holder, dead


def keep_lease(
    db: Database, *, holder: str, path: Path, life: Life, wake: Callable[[], None]
) -> None:
    """Until stopped: check the file, renew the lease (lost: stop), put expired claims back
    (and ``wake`` the workers for them)."""
    while not life.stop.wait(LEASE_TTL / 3):
        try:
            db.check_identity()  # renewing a lease on a deleted file proves nothing
        except PermanentError as e:
            life.give_up(e)
            return
        try:
            if not db.leases.renew(holder=holder, ttl=LEASE_TTL):
                log.error("lost the controller lease on %s; stopping", path)
                life.stop.set()
        except StackctlError as e:
            log.warning("renewing the controller lease: %s", e)
        try:
            for command in db.commands.recover_expired():
                log.warning("command %s: its worker stopped; back in the queue", command.command_id)
                wake()
        except StackctlError as e:
            log.warning("putting interrupted commands back: %s", e)
