"""The sender: routes outbox messages to destinations and sends them, from its own thread.

A round (``round``) routes the messages not yet routed (once each: who wants a message is
decided when the sender first sees it, from the destinations configured then) and sends the
deliveries that are due, several at a time (``parallel``) and one at a time per destination
(oldest first), so a destination that hangs holds one sending thread and its own deliveries,
never the others'. A failure is retried with backoff (``RETRY_FIRST`` doubling to
``RETRY_MAX``) until ``MAX_ATTEMPTS``; a refusal that cannot get better (a 4xx, a URL Apprise
does not know) is given up at once. Nothing here can fail or slow a deploy: the worker only
wrote a row.

Who wants a message: the stack's ``spec.notify`` (its version's, as recorded) when it has one,
else the controller's ``--notify`` destinations; each filtered by its ``events``. Messages of a
version read from a repository with ``spec.commitStatus`` also go to that forge as a commit
status (``forges``).

At least once: a kill after a send and before it is recorded sends that delivery again, with
the same ``X-Stackctl-Delivery`` key; nothing is lost (the rows are in the database).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from controller.db import Database
from controller.db.outbox import Delivery, Message, Route
from controller.delivery.notifications import destinations, forges
from controller.delivery.notifications.destinations import Outgoing
from controller.desired.delivery import NotifyTarget
from controller.desired.reach import Reach
from controller.desired.repository_spec import RepositorySpec
from controller.models.errors import PermanentError, StackctlError

log = logging.getLogger(__name__)

RETRY_FIRST = 2.0
RETRY_MAX = 300.0
MAX_ATTEMPTS = 12  # about 40 minutes of retries
FORGE = "forge:"
IDLE = 1.0  # seconds between looks at an empty outbox


class Sender:
    def __init__(
        self,
        db: Database,
        *,
        destinations: Iterable[NotifyTarget] = (),
        repository: Callable[[str], RepositorySpec | None] = lambda name: None,
        public_url: str | None = None,
        parallel: int = 4,
        reach: Reach | None = None,
        trusted_repository: RepositorySpec | None = None,
    ) -> None:
        """``reach``: the operator's policy, checked again when a stack's own destination or a
        declared repository's forge is sent to (``None``: everything is trusted, as in tests
        of sending); ``destinations`` and ``trusted_repository`` (``--git-url``'s) are the
        operator's own and never checked."""
        self._db = db
        self._reach = reach
        self._trusted_repository = trusted_repository
        self._defaults = tuple(destinations)
        self._repository = repository
        self._public_url = public_url.rstrip("/") if public_url else None
        self._pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="stackctl-send")
        self._parallel = parallel
        self._stacks: dict[tuple[str, str], tuple[NotifyTarget, ...]] = {}
        self._sending: dict[int, str] = {}  # delivery id -> its destination, while sent
        self._lock = threading.Lock()
        self._wake = threading.Event()  # a send ended: look again now

    # -- the loop ----------------------------------------------------------------------------

    def run(self, stop: threading.Event, *, idle: float = IDLE) -> None:
        """Rounds until ``stop``; a database fault is logged and the next round tries again.
        A finished send starts the next round at once (its destination's next delivery).
        Idle, it sleeps until woken (``wake``), until the next retry is due, or ``idle``
        seconds (the controller, which wakes it on every write, gives a long one)."""
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    busy = self.round()
                    sleep = 0.05 if busy else self._until_due(idle)
                except StackctlError as e:
                    log.warning("notifications: %s", e)
                    sleep = IDLE
                self._wake.wait(sleep)
        finally:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _until_due(self, idle: float) -> float:
        """Seconds until the next delivery is due (at most ``idle``). One due already is being
        sent, or waits behind one being sent to its destination: that send's end wakes us."""
        due = self._db.outbox.next_due_at()
        seconds = idle if due is None else (due - self._db.clock()).total_seconds()
        return min(idle, seconds) if seconds > 0 else idle

    def wake(self) -> None:
        """Look at the outbox now (something was just written to it), not at the next tick."""
        self._wake.set()

    def round(self, *, wait: bool = False) -> bool:
        """Route what is new and start what is due; ``True`` when there was work. With
        ``wait``, return only when the sends started here are done (tests, ``drain``)."""
        routed = self._route_new()
        with self._lock:
            busy = set(self._sending.values())
        due = [d for d in self._db.outbox.due(limit=self._parallel * 4, busy=busy) if self._take(d)]
        futures = [self._pool.submit(self._deliver, d) for d in due]
        if wait:
            for future in futures:
                future.result()
        return bool(routed or due)

    def drain(self, *, rounds: int = 200) -> None:
        """Send everything due now (retries later stay): for tests and one-shot commands."""
        for _ in range(rounds):
            if not self.round(wait=True):
                return

    def _take(self, delivery: Delivery) -> bool:
        """One delivery at a time per destination, in message order: a destination that
        hangs holds one sending thread, never the others' deliveries."""
        with self._lock:
            if delivery.destination in self._sending.values():
                return False
            self._sending[delivery.delivery_id] = delivery.destination
            return True

    # -- routing -----------------------------------------------------------------------------

    def _route_new(self) -> int:
        messages = self._db.outbox.unrouted(limit=100)
        if messages:  # one transaction for them all
            self._db.outbox.route_many([(m.message_id, self.routes(m)) for m in messages])
        return len(messages)

    def routes(self, message: Message) -> list[Route]:
        wanted = [
            Route(destinations.fingerprint(t.url), destinations.label(t.url))
            for t in self._targets(message)
            if t.wants(message.kind)
        ]
        forge = self._forge_of(message)
        if forge is not None and message.kind in forges.STATES:
            name = message.payload["git_repository"]
            wanted.append(Route(f"{FORGE}{name}", f"commit status ({name})"))
        return wanted

    def _targets(self, message: Message) -> tuple[NotifyTarget, ...]:
        own = self._stack_targets(message.stack_id, message.payload.get("version"))
        return own or self._defaults

    def _stack_targets(self, stack_id: str | None, version: str | None) -> tuple[NotifyTarget, ...]:
        if stack_id is None:
            return ()
        if version is None:
            stack = self._db.stacks.get(stack_id)
            version = stack.current_version if stack else None
            if version is None:
                return ()
        key = (stack_id, version)
        if key not in self._stacks:
            if len(self._stacks) > 10_000:  # versions only grow: forget, it is a cache
                self._stacks.clear()
            self._stacks[key] = _notify_targets(
                self._db.stack_versions.notify_settings(stack_id, version)
            )
        return self._stacks[key]

    def _forge_of(self, message: Message) -> forges.Forge | None:
        name = message.payload.get("git_repository")
        if not name or not message.payload.get("git_commit"):
            return None
        spec = self._repository(name)
        if spec is None or spec.commit_status is None:
            return None
        return forges.Forge.of(spec.commit_status, repository_url=spec.url)

    # -- sending -----------------------------------------------------------------------------

    def _deliver(self, delivery: Delivery) -> None:
        try:
            self._send(delivery)
        except _Dropped:
            pass  # recorded as DROPPED
        except PermanentError as e:
            self._db.outbox.give_up(delivery.delivery_id, error=str(e))
            log.warning(
                "notification %s to %s refused: %s", delivery.message.key, delivery.label, e
            )
        except StackctlError as e:
            self._retry(delivery, str(e))
        except Exception as e:  # a destination's library failing must not end the thread
            self._retry(delivery, destinations.redact(f"{type(e).__name__}: {e}"))
        else:
            self._db.outbox.sent(delivery.delivery_id)
        finally:
            with self._lock:
                self._sending.pop(delivery.delivery_id, None)
            self._wake.set()

    def _retry(self, delivery: Delivery, error: str) -> None:
        if delivery.attempts + 1 >= MAX_ATTEMPTS:
            self._db.outbox.give_up(delivery.delivery_id, error=error)
            log.warning(
                "notification %s to %s given up: %s", delivery.message.key, delivery.label, error
            )
            return
        delay = min(RETRY_MAX, RETRY_FIRST * 2**delivery.attempts)
        at = self._db.clock() + timedelta(seconds=delay)
        self._db.outbox.retry(delivery.delivery_id, error=error, at=at)

    def _send(self, delivery: Delivery) -> None:
        message = delivery.message
        if delivery.destination.startswith(FORGE):
            forge = self._forge_of(message)
            if forge is None:
                self._db.outbox.drop(
                    delivery.delivery_id, reason="commit status no longer configured"
                )
                raise _Dropped
            if self._reach is not None and self._named_by_manifest(forge, message):
                destinations.check_reach(forge.api_url, self._reach)
            forge.post(
                sha=message.payload["git_commit"],
                state=forges.STATES[message.kind],
                context=f"stackctl/{message.stack_id}",
                description=message.payload.get("message", message.kind),
                target_url=self._stack_url(message.stack_id),
            )
            return
        target = self._find(delivery)
        if target is None:
            self._db.outbox.drop(delivery.delivery_id, reason="destination no longer configured")
            raise _Dropped
        if self._reach is not None and target not in self._defaults:
            destinations.check_reach(target.url, self._reach)
        destinations.send(target.url, self.outgoing(message))

    def _named_by_manifest(self, forge: forges.Forge, message: Message) -> bool:
        """Whether a manifest chose where this status goes: its own ``apiUrl`` (the defaults,
        GitHub's API or the repository's own host, are not a destination it picked), from a
        repository other than ``--git-url``'s."""
        spec = self._repository(message.payload["git_repository"])
        return forge.status.api_url is not None and spec != self._trusted_repository

    def _find(self, delivery: Delivery) -> NotifyTarget | None:
        message = delivery.message
        for target in (*self._targets(message), *self._defaults):
            if destinations.fingerprint(target.url) == delivery.destination:
                return target
        return None

    def outgoing(self, message: Message) -> Outgoing:
        text = message.payload.get("message") or message.kind
        lines = [text]
        if message.payload.get("git_commit"):
            subject = message.payload.get("git_subject") or ""
            lines.append(f"commit {message.payload['git_commit'][:12]} {subject}".rstrip())
        if url := self._stack_url(message.stack_id):
            lines.append(url)
        return Outgoing(
            key=message.key,
            kind=message.kind,
            stack_id=message.stack_id,
            title=f"stackctl: {message.kind.replace('.', ' ')}"
            + (f": {message.stack_id}" if message.stack_id else ""),
            body="\n".join(lines),
            payload=message.payload,
            created_at=message.created_at.isoformat(),
        )

    def _stack_url(self, stack_id: str | None) -> str | None:
        if not self._public_url or not stack_id:
            return None
        return f"{self._public_url}/stacks/{stack_id}"


class _Dropped(StackctlError):
    """The delivery was dropped (recorded); nothing more to record."""


def _notify_targets(stored: list[Any] | None) -> tuple[NotifyTarget, ...]:
    """A version's ``notify`` targets from its stored settings (as ``load_desired`` would read
    them, without rebuilding the whole stack for each new version: 10,000 of them at a large
    drop); none when a target cannot be read (a record not written by the loader)."""
    try:
        return tuple(NotifyTarget.model_validate(target) for target in stored or ())
    except ValueError:
        return ()
