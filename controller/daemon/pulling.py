"""The followed repositories, kept in line with the flags (``--git-url``: the repository named
``default``) and the watched directory's ``kind: Repository`` manifests; fetches asked with
``stackctl sync`` are passed on to them.
"""

from __future__ import annotations

import logging

from controller.daemon.life import Life, backoff
from controller.desired.repository_spec import RepositorySpec
from controller.models.errors import StackctlError
from controller.sources.following import Sources, declarations
from controller.sources.watcher import Watcher

log = logging.getLogger("stackctl.controller")

FOLLOW_MAX = 60.0  # seconds: the longest the loop sleeps with nothing heard (a safety net)


def follow_repositories(
    sources: Sources,
    *,
    watcher: Watcher,
    flagged: RepositorySpec | None,
    secret: bytes | None,
    life: Life,
) -> None:
    """Until stopped: after each pass of ``watcher``, the repositories it declares (and
    ``flagged``, with the webhook ``secret``) are the ones followed; sync requests are taken.
    It looks when ``Life.changes`` moves (a watcher pass, a write to the database: a sync
    request), not on a timer; after a failure, again in ``backoff``."""
    seen, heard, failures = None, 0, 0
    while not life.stop.is_set():
        try:
            if watcher.last is not seen:
                seen = watcher.last
                declared, broken = declarations(seen, flagged=flagged, secret=secret)
                sources.update(declared, broken=broken)
            sources.take_requests()
            failures = 0
        except StackctlError as e:
            log.warning("repositories: %s", e)
            seen = None  # try again
            failures += 1
        heard = life.changes.wait(heard, backoff(failures - 1) if failures else FOLLOW_MAX)


def repository_spec(sources: Sources, name: str) -> RepositorySpec | None:
    """The followed repository ``name`` (for its commit-status settings), if any."""
    puller = sources.pullers().get(name)
    return puller.spec if puller is not None else None
