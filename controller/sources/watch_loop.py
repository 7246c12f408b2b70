"""The watcher's loop: a pass after every burst of file changes (inotify, or watchfiles where
there is none), a root that is a symlink followed to its new folder, and a failed pass retried,
0.5 s doubling to 30 s apart, until one passes (``failing`` says why meanwhile).

``WatchLoop`` is inherited by ``Watcher``, which gives it ``root``, ``alive``, ``sync`` (one
pass) and ``take_nudge`` (another source's claims changed).
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
from collections.abc import Callable
from pathlib import Path

import watchfiles

from controller.models.errors import StackctlError
from controller.sources import inotify
from controller.sources.effects import SyncReport

log = logging.getLogger("stackctl.watcher")

QUIET_MS_DEFAULT = 50
# With inotify, the one look not caused by an event: at ``stop`` (the controller's rings the
# doorbell, ``wake``; a plain event cannot) and at the root's target (a symlink swapped).
CHECK_EVERY = 1.0
# Without inotify, how often watchfiles looks for events (a write waits at most this to be
# seen): a fifth of the quiet window, so 10 ms at the default 50 ms. Each look costs CPU, idle
# or not: every 10 ms is ~0.7 % of a core on this project's machine, every 50 ms ~0.15 %.
MAX_TICK_MS = 50
MAX_BURST_MS = 1600  # a burst that never goes quiet is synced this often
RETRY_FIRST, RETRY_MAX = 0.5, 30.0  # seconds before a failed pass runs again, doubling


def retry_delay(failures: int) -> float:
    """How long a pass waits after ``failures`` (>= 1) failed in a row."""
    return min(RETRY_MAX, RETRY_FIRST * 2 ** min(failures - 1, 16))


class WatchLoop:
    """When to run a pass: after a burst of changes, when a failed one is due again, when
    nudged."""

    root: Path
    alive: threading.Event
    failing: str | None = None  # why the passes fail now; None once one passed
    _failures: int = 0  # passes failed in a row
    _retry_at: float | None = None  # monotonic time of the next try of a failed pass

    def __init__(self) -> None:
        self._bell: inotify.Doorbell | None = None  # while ``watch`` runs
        self.on_pass: Callable[[], None] = lambda: None  # after each pass that passed

    def sync(self) -> SyncReport:
        raise NotImplementedError

    def take_nudge(self) -> bool:
        raise NotImplementedError

    def watch(self, stop: threading.Event, *, quiet_ms: int = QUIET_MS_DEFAULT) -> None:
        """Sync after every burst of changes, once ``quiet_ms`` passed without another (or
        ``MAX_BURST_MS`` into an endless one), until ``stop`` is set. A root that is a symlink
        swapped to a new folder is noticed within a second (``CHECK_EVERY``) and watched anew.

        Linux: the thread sleeps until inotify or the doorbell (``wake``) has something to say
        (``_watch_events``), and once every ``CHECK_EVERY`` for ``stop`` and the root's target;
        elsewhere, or with ``WATCHFILES_FORCE_POLLING``, watchfiles looks every fifth of the
        quiet window (``_watch_polling``)."""
        self.alive.set()
        self._bell = bell = inotify.Doorbell()
        try:
            while not stop.is_set():
                target = os.path.realpath(self.root)
                if not os.path.isdir(target):
                    stop.wait(max(1.0, self.retry_in()))
                    self.sync_safely()
                    continue
                try:
                    if inotify.available():
                        self._watch_events(target, stop, quiet=quiet_ms / 1000)
                    else:
                        self._watch_polling(target, stop, quiet_ms=quiet_ms)
                except Exception as e:  # no watch could be set (no descriptor left): again
                    self._failed(e, what=f"watching {target}")
                    stop.wait(self.retry_in())
        finally:
            self._bell = None
            bell.close()
            self.alive.clear()

    def wake(self) -> None:
        """Have ``watch`` look now (a nudge, or ``stop`` set) instead of within ``CHECK_EVERY``."""
        bell = self._bell
        if bell is not None:
            bell.ring()  # a no-op once closed

    def _watch_events(self, target: str, stop: threading.Event, *, quiet: float) -> None:
        """Watch ``target`` with inotify until ``stop`` or the root moves to another folder.
        Each event pushes the end of the quiet window back; the pass runs when it ends."""
        with inotify.Tree(target) as tree:
            self.sync_safely()  # what changed before the watch was in place
            poller = select.poll()
            poller.register(tree.fileno(), select.POLLIN)
            bell = self._bell
            assert bell is not None
            poller.register(bell.fileno(), select.POLLIN)
            quiet_at: float | None = None  # when the burst has been quiet long enough
            burst_ends = 0.0  # when a burst that never goes quiet is synced anyway
            while not stop.is_set():
                ready = {fd for fd, _ in poller.poll(1000 * self._sleep(quiet_at, burst_ends))}
                if bell.fileno() in ready:
                    bell.answer()
                now = time.monotonic()
                if tree.fileno() in ready and tree.read():
                    burst_ends = burst_ends if quiet_at is not None else now + MAX_BURST_MS / 1000
                    quiet_at = now + quiet
                if tree.root_gone or os.path.realpath(self.root) != target:
                    self._moved(target)
                    return
                due = quiet_at is not None and (now >= quiet_at or now >= burst_ends)
                if due or self.retry_due() or self.take_nudge():
                    quiet_at = None
                    self.sync_safely()

    def _sleep(self, quiet_at: float | None, burst_ends: float) -> float:
        """Seconds ``_watch_events`` may sleep unless woken: to the end of the quiet window or
        of the burst, to a failed pass's retry, at most ``CHECK_EVERY``."""
        now = time.monotonic()
        until = [CHECK_EVERY]
        if quiet_at is not None:
            until.append(min(quiet_at, burst_ends) - now)
        if self._retry_at is not None:
            until.append(self._retry_at - now)
        return max(0.0, min(until))

    def _moved(self, target: str) -> None:
        """The root is no longer ``target``: say where it points now, and sync it."""
        if os.path.realpath(self.root) != target:
            log.info("%s now points to %s; watching it", self.root, os.path.realpath(self.root))
        self.sync_safely()

    def _watch_polling(self, target: str, stop: threading.Event, *, quiet_ms: int) -> None:
        """Watch ``target`` with watchfiles until ``stop`` or the root moves to another folder.
        A change made before the watch was in place would be missed: the first wake-up rescans.

        The quiet window is kept here, not by watchfiles. Its ``step`` is both how often it
        looks for events and the quiet it waits for: ``step=50`` made a write wait 50-100 ms
        before it was even handed over. Here it looks every fifth of the window (10 ms by
        default; see ``MAX_TICK_MS`` for the cost), hands a burst over after one quiet tick, and
        its timeout, set to end just before the window does, says that no other change came;
        the last few milliseconds are waited here."""
        tick = max(1, min(MAX_TICK_MS, quiet_ms // 5))
        quiet = quiet_ms / 1000
        first = True
        quiet_at: float | None = None  # when the burst seen so far has been quiet long enough
        burst_ends = 0.0  # when a burst that never goes quiet is synced anyway
        for changes in watchfiles.watch(
            target,
            debounce=MAX_BURST_MS,
            step=tick,
            stop_event=stop,
            rust_timeout=max(tick, round(quiet * 1000) - 2 * tick),
            yield_on_timeout=True,
            raise_interrupt=False,
        ):
            if os.path.realpath(self.root) != target:
                self._moved(target)
                return
            now = time.monotonic()
            if changes:  # the newest was seen one tick ago, and came at most then
                if quiet_at is None:
                    burst_ends = now + MAX_BURST_MS / 1000
                quiet_at = now - tick / 1000 + quiet
            elif quiet_at is not None and now < quiet_at:
                stop.wait(quiet_at - now)  # at most a tick: the timeout ends just before
                now = time.monotonic()
            due = quiet_at is not None and (now >= quiet_at or now >= burst_ends)
            if due or first or self.retry_due() or self.take_nudge():
                quiet_at = None
                self.sync_safely()
            first = False

    def sync_safely(self) -> SyncReport | None:
        """One pass: its report, or None when it failed: then it is logged, ``failing`` says
        why, and it is due again after ``retry_delay`` (``retry_due``) whether or not a file
        changes: ``watch`` runs it then, and so does a repository's puller."""
        try:
            report = self.sync()
        except Exception as e:  # the watcher outlives any one bad pass, and retries it
            self._failed(e, what=f"sync of {self.root}")
            return None
        if self.failing is not None:
            log.info("sync of %s passed again", self.root)
        self.failing, self._failures, self._retry_at = None, 0, None
        self.on_pass()
        return report

    def retry_due(self) -> bool:
        """A pass failed and its back-off is over: run it again."""
        return self._retry_at is not None and time.monotonic() >= self._retry_at

    def _failed(self, error: Exception, *, what: str) -> None:
        self._failures += 1
        delay = retry_delay(self._failures)
        self._retry_at = time.monotonic() + delay
        self.failing = f"{what} failed: {error} (retrying in {delay:.1f}s)"
        # A fault of the machine or the database says all in one line; anything else is a bug,
        # whose traceback is worth one look, not one per retry.
        if isinstance(error, StackctlError | OSError) or self._failures > 1:
            log.warning("%s", self.failing)
        else:
            log.exception("%s", self.failing)

    def retry_in(self) -> float:
        """Seconds until a failed pass is due again (0 when none is waiting)."""
        return 0.0 if self._retry_at is None else max(0.0, self._retry_at - time.monotonic())
