"""The database's changes, whoever made them, heard without reading it on a timer.

The CLI and the API's own connection write the database too: a command queued by
``stackctl sync``, a fetch asked by ``stackctl sync --repository``. The dispatcher and the
repositories' loop used to read it twice a second in case one had. Now the database's folder is
watched (inotify, ``controller.sources.inotify.Files``): a write to the database or its WAL, by
any process, notifies ``Life.changes`` and calls ``on_change`` (the sender: an outbox row) at
once; the writes that follow within ``SETTLE`` (an apply writes many) are one more notice then,
so a busy controller's loops look twice a second at most, as they did on their timer. An idle
controller writes only its lease (every 5 s): that is the one notice it hears then.

Without inotify (or when the watch cannot be set), the notices come every ``POLL_EVERY`` as
the loops looked before. ``Controller.shutdown`` rings ``bell`` so that the thread ends at once.
"""

from __future__ import annotations

import logging
import select
from collections.abc import Callable
from pathlib import Path

from controller.daemon.life import Life
from controller.sources import inotify

log = logging.getLogger("stackctl.controller")

SETTLE = 0.5  # seconds: a burst of writes (an apply), one notice at its start and one after
POLL_EVERY = 0.5  # seconds between notices when the database's folder cannot be watched


def watch_database(
    path: Path, *, life: Life, bell: inotify.Doorbell, on_change: Callable[[], None]
) -> None:
    """Until stopped: a notice (``Life.changes``, ``on_change``) after the database at
    ``path`` is written."""

    def notify() -> None:
        life.changes.notify()
        on_change()

    files = _watch(path)
    if files is None:
        while not life.stop.wait(POLL_EVERY):
            notify()
        return
    try:
        poller = select.poll()
        poller.register(files.fileno(), select.POLLIN)
        poller.register(bell.fileno(), select.POLLIN)
        while not life.stop.is_set():
            ready = {fd for fd, _ in poller.poll()}  # no timeout: a write or the bell
            if bell.fileno() in ready:
                bell.answer()
            if files.fileno() in ready and files.read():
                notify()
                life.stop.wait(SETTLE)  # what follows in the burst: heard at the next read
    finally:
        files.close()


def _watch(path: Path) -> inotify.Files | None:
    """The watch of ``path``'s folder, or None (no inotify, or it cannot be set: said)."""
    if not inotify.available():
        return None
    name = path.name
    try:
        return inotify.Files(str(path.parent), {name, f"{name}-wal", f"{name}-journal"})
    except OSError as e:
        log.warning("watching %s for writes: %s; looking every %.1fs instead", path, e, POLL_EVERY)
        return None
