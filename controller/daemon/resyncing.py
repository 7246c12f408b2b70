"""The periodic resync: every ``--resync`` seconds (give or take a tenth, so that controllers
started together spread out), one round over every stack the files and the repositories
declare, the engine observed once and a RECONCILE queued only where a stack drifted
(``controller.reconcile.resync``). A database fault is tried again sooner than a period.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

from controller.daemon.life import Life, backoff
from controller.models.errors import StackctlError
from controller.reconcile.resync import Resync, Round
from controller.sources.following import Sources
from controller.sources.watcher import Watcher

log = logging.getLogger("stackctl.controller")


def resync_round(resync: Resync, *, watcher: Watcher, sources: Sources) -> Round:
    """One resync round over every stack the files and the repositories declare (valid or
    kept at their last good version); none queued, nothing written."""
    names = set(watcher.managed_names())
    for puller in sources.pullers().values():
        names |= puller.watcher.managed_names()
    done = resync.round(names)
    for engine, why in done.unreachable:
        log.warning("resync: engine %s did not answer, its stacks wait: %s", engine, why)
    log.debug(
        "resync: %d stack(s) compared, %d busy, %d suspended, %d queued",
        done.stacks,
        done.skipped,
        done.suspended,
        len(done.queued),
    )
    return done


def resync_every(period: float, *, life: Life, once: Callable[[], object]) -> None:
    """Call ``once`` (a round) every ``period`` seconds, jittered, until stopped."""
    rng = random.Random()
    failures = 0
    while not life.stop.wait(backoff(failures) if failures else period * rng.uniform(0.9, 1.1)):
        try:
            once()
            failures = 0
        except StackctlError as e:  # a database fault: try again sooner than a period
            log.warning("resync: %s (retrying in %.1fs)", e, backoff(failures + 1))
            failures += 1
