"""What an unauthenticated request body may cost the API: the webhook route's read of its body
under a deadline and a budget shared by every body in flight, and the thread limit of the work
done on it.

``POST /api/v1/hooks/git`` is the one route anyone may send a large body to (a forge cannot
send our token), so its cost is bounded here before any signature is checked: at most
``HookLimits.body_budget`` bytes of bodies are held at once (a body that would go beyond waits
for nothing: 503 with ``Retry-After``), each body must arrive within ``body_timeout`` seconds
(else 408), and the checks and parsing run in at most ``threads`` threads of their own, never
on the event loop nor in the pool the other routes share. A refused body is not read further
and its connection is closed. This module must never look at what a body says.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import anyio
import anyio.to_thread
from starlette.requests import ClientDisconnect, Request

from controller.models.errors import StackctlError

MIB = 1024 * 1024
T = TypeVar("T")


@dataclass(frozen=True)
class HookLimits:
    """The settings (``--api-body-budget``, ``--api-body-timeout``) and a fixed thread count."""

    body_budget: int = 32 * MIB  # bytes of webhook bodies held at once, all senders together
    body_timeout: float = 30.0  # seconds from the headers to the body's last byte
    threads: int = 4  # signature checks and parsing at once (hashlib frees the GIL)


class BodyRefused(StackctlError):
    """A body not read (further): the answer's status and message (the route answers it; an
    ordinary refusal of a request, not a fault of the controller)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class BodyBudget:
    """Bytes of request bodies held now, out of ``total``. Used from the event loop only (one
    thread), so it needs no lock."""

    total: int
    held: int = 0

    def take(self, size: int) -> bool:
        if self.held + size > self.total:
            return False
        self.held += size
        return True

    def give_back(self, size: int) -> None:
        self.held -= size


@dataclass
class HookGuard:
    """One per app: its limits, the shared budget and the thread limiter."""

    limits: HookLimits = field(default_factory=HookLimits)
    budget: BodyBudget = field(init=False)
    _limiter: anyio.CapacityLimiter | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.budget = BodyBudget(self.limits.body_budget)

    @asynccontextmanager
    async def read_body(
        self, request: Request, *, declared: int | None, limit: int
    ) -> AsyncIterator[bytes]:
        """The whole body (at most ``limit`` bytes), held against the budget until the block
        ends; ``BodyRefused`` when it is too large (413), would exceed the budget (503), is late
        (408) or the client went away (400). A ``declared`` Content-Length is reserved at once,
        so that a body that cannot fit is refused before a byte of it is read."""
        reserved = 0
        try:
            if declared is not None:
                reserved = self._reserve(declared)
            body = bytearray()
            try:
                with anyio.fail_after(self.limits.body_timeout):
                    async for chunk in request.stream():
                        if len(body) + len(chunk) > limit:
                            raise BodyRefused(413, f"the body is over {limit} bytes")
                        if len(body) + len(chunk) > reserved:
                            reserved += self._reserve(len(body) + len(chunk) - reserved)
                        body += chunk
            except TimeoutError as e:
                late = f"the body did not arrive within {self.limits.body_timeout:g}s"
                raise BodyRefused(408, late) from e
            except ClientDisconnect as e:
                gone = "the client closed the connection before the body ended"
                raise BodyRefused(400, gone) from e
            yield bytes(body)
        finally:
            self.budget.give_back(reserved)

    def _reserve(self, size: int) -> int:
        if not self.budget.take(size):
            raise BodyRefused(
                503,
                f"too many webhook bodies are being received at once (over"
                f" {self.limits.body_budget} bytes): try again shortly",
            )
        return size

    async def run(self, work: Callable[[], T]) -> T:
        """``work()`` in one of the guard's threads (the event loop keeps serving meanwhile)."""
        if self._limiter is None:  # created on the loop that uses it
            self._limiter = anyio.CapacityLimiter(self.limits.threads)
        return await anyio.to_thread.run_sync(work, limiter=self._limiter)
