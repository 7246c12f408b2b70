"""The controller's life: its threads, the one stop event, the workers' wake-ups, why it stopped.

Every loop of the controller runs in a thread started by ``Life.spawn`` and ends when ``stop`` is
set. A loop that raises a ``StackctlError`` (the database is unusable, or was replaced) stops the
controller with that error (``give_up``: ``Controller.run`` raises it after shutdown, one
``error:`` line); any other exception is logged with its traceback and stops it too.

SIGTERM and SIGINT are only noted by their handler (``install_signal_handlers``); the main thread
sleeps until ``stop`` is set or a signal comes (``wait_for_stop``), not on a timer: both write to
one pipe (``Stop``; the signal's number, by Python's own ``signal.set_wakeup_fd``).
"""

from __future__ import annotations

import logging
import select
import signal
import threading
from collections.abc import Callable

from controller.models.errors import StackctlError
from controller.sources.inotify import Doorbell

log = logging.getLogger("stackctl.controller")

MAX_BACKOFF = 30.0  # seconds between attempts of a loop that keeps meeting a database fault


def backoff(failures: int) -> float:
    """0.5 s doubling to ``MAX_BACKOFF``: how long a loop waits after ``failures`` in a row."""
    return min(MAX_BACKOFF, 0.5 * 2 ** min(failures, 16))


class Stop(threading.Event):
    """The stop event; setting it also rings ``bell``, the pipe the main thread sleeps on."""

    def __init__(self, bell: Doorbell) -> None:
        super().__init__()
        self.bell = bell

    def set(self) -> None:
        super().set()
        self.bell.ring()


class Changes:
    """A count of "something may have changed" (the database written, by this process or
    another; a watcher pass; the controller stopping): each loop that waits on it keeps the
    count it saw (``wait``), so one notice wakes every such loop, once, with no event to
    clear and none lost between two looks."""

    def __init__(self) -> None:
        self._count = 0
        self._moved = threading.Condition()

    def notify(self) -> None:
        with self._moved:
            self._count += 1
            self._moved.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        """Sleep until the count is past ``seen`` or ``timeout`` passes; the count now."""
        with self._moved:
            self._moved.wait_for(lambda: self._count != seen, timeout=max(0.0, timeout))
            return self._count


class Life:
    """The stop event every loop watches, the condition idle workers sleep on, the threads
    started, and the error that stopped the controller by itself (``fatal``), if any."""

    def __init__(self) -> None:
        self.stop = Stop(Doorbell())
        self.fatal: StackctlError | None = None
        self.threads: list[threading.Thread] = []
        self._wake = threading.Condition()
        self.changes = Changes()  # what the dispatcher and the repositories' loop wait on
        self._signalled: int | None = None  # SIGTERM/SIGINT received: stop (run acts on it)
        self._handlers_installed = False  # install_signal_handlers was called (the main thread)
        self._previous_wakeup_fd = -1

    def wake(self) -> None:
        """Wake every idle worker (``idle``)."""
        with self._wake:
            self._wake.notify_all()

    def idle(self, seconds: float) -> None:
        """Sleep until ``wake`` is called or ``seconds`` pass."""
        with self._wake:
            self._wake.wait(timeout=seconds)

    def give_up(self, error: StackctlError) -> None:
        """Stop the controller because of ``error`` (the database is unusable, or was replaced):
        ``run`` raises the first such error once everything has stopped."""
        if self.fatal is None:
            self.fatal = error
        self.stop.set()
        self.wake()
        self.changes.notify()

    def spawn(self, name: str, target: Callable[[], None]) -> None:
        """Run ``target`` in a daemon thread called ``name``; its errors stop the controller."""
        thread = threading.Thread(target=self._guard(name, target), name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def join(self, timeout: float) -> None:
        for thread in self.threads:
            thread.join(timeout=timeout)

    def _guard(self, name: str, target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except StackctlError as e:  # says what is wrong: the exit's error line, no traceback
                self.give_up(e)
            except Exception:
                log.exception("%s thread died; stopping the controller", name)
                self.stop.set()

        return run

    # -- signals -----------------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT stop ``run``. The handler only notes the signal, and ``run``
        acts on it: a handler runs in the main thread between two of its bytecodes, so one
        that called ``stop.set()`` (or logged) could interrupt that same call of the thread,
        or of the first handler when a second signal came (``timeout`` sends two), and wait
        forever on the lock its own thread held: the controller never stopped. Python writes
        the signal's number to the stop's pipe (``set_wakeup_fd``, no lock): ``run`` wakes."""

        def handler(signum: int, _frame: object) -> None:
            self._signalled = signum  # no lock, no I/O: see above

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)
        self._previous_wakeup_fd = signal.set_wakeup_fd(
            self.stop.bell.writer(), warn_on_full_buffer=False
        )
        self._handlers_installed = True

    def wait_for_stop(self, on_signal: Callable[[], None]) -> None:
        """Block until ``stop`` is set, by a loop or by a signal noted meanwhile (then
        ``on_signal`` is called, once)."""
        poller = select.poll()
        poller.register(self.stop.bell.fileno(), select.POLLIN)
        while not self.stop.is_set():
            poller.poll()  # a byte: the stop set (0) or a signal (its number)
            signals = [n for n in self.stop.bell.answer() if n]
            signum = self._signalled or (signals[0] if signals else None)
            if signum is not None and not self.stop.is_set():
                log.info("received %s: stopping", signal.Signals(signum).name)
                self.stop.set()
                on_signal()
        self._ignore_further_sigterms()

    def close(self) -> None:
        """Once stopped and joined: the stop's pipe closed (a late ``set`` rings nothing, a
        late signal writes nowhere)."""
        if self._handlers_installed and threading.current_thread() is threading.main_thread():
            signal.set_wakeup_fd(self._previous_wakeup_fd)
            self._previous_wakeup_fd = -1
        self.stop.bell.close()

    def _ignore_further_sigterms(self) -> None:
        """Once stopping, a SIGTERM has nothing to add: ignore it. Python's exit puts back the
        default action of every signal with a Python handler (not of an ignored one), so a
        SIGTERM landing while the interpreter finalizes (``timeout`` and supervisors repeat
        theirs) would end the process by the signal (-15) instead of exit 0."""
        if self._handlers_installed and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
