"""The memory of push webhook deliveries already handled, so a forge's redelivery of a push
fetches nothing twice (``controller.sources.git.webhooks`` reads the deliveries; this only remembers
their ids). Standard library only; no I/O.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class Deliveries:
    """Delivery ids already handled, so a sender's redelivery is answered without a second fetch.

    Bounded (the least recently seen id is forgotten first) and safe to share between threads.
    It lives in memory only: after a restart a redelivery fetches once more, which is harmless
    because a fetch of an unchanged repository changes nothing. Record only verified deliveries,
    or anyone could fill it with guessed ids.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError("Deliveries needs room for at least one id")
        self._capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def seen_before(self, delivery_id: str | None) -> bool:
        """True if the id was recorded already; records it either way. No id is never seen."""
        if not delivery_id:
            return False
        with self._lock:
            if delivery_id in self._seen:
                self._seen.move_to_end(delivery_id)
                return True
            self._seen[delivery_id] = None
            if len(self._seen) > self._capacity:
                self._seen.popitem(last=False)
            return False

    def forget(self, delivery_id: str | None) -> None:
        """Drop an id whose handling failed (e.g. the fetch could not be queued), so the sender's
        retry is not mistaken for a duplicate."""
        if delivery_id:
            with self._lock:
                self._seen.pop(delivery_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)
