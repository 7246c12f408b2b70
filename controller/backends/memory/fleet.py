"""``MemoryFleet``: the memory engine listed once (``MemoryEngine.observe_fleet``), its
containers, networks and volumes grouped by stack in one pass (``Listed``), as the Docker
fleet is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from controller.models.observed import Snapshot

if TYPE_CHECKING:
    from controller.backends.memory.engine import (
        FakeContainer,
        FakeObject,
        MemoryEngine,
        MemoryState,
    )


class MemoryFleet:
    """The memory engine listed once (what ``observe_fleet`` returns)."""

    def __init__(self, engine: MemoryEngine) -> None:
        self._engine = engine
        with engine.state.lock:  # listed once, grouped by stack (as the Docker fleet is)
            self._listed = Listed.of(engine.state)

    def snapshot(self, stack: str, *, images: list[str] = (), names: list[str] = ()) -> Snapshot:  # type: ignore[assignment]
        with self._engine.state.lock:
            return self._engine._snapshot(stack, images=list(images), listed=self._listed)


@dataclass
class Listed:
    """The engine's containers, networks and volumes by stack: one pass over them, not one
    per stack (a resync of 10,000 stacks on this engine was quadratic)."""

    containers: dict[str, list[FakeContainer]]
    networks: dict[str, list[FakeObject]]
    volumes: dict[str, list[FakeObject]]

    @classmethod
    def of(cls, state: MemoryState, stack: str | None = None) -> Listed:
        """Grouped by stack; only ``stack``'s when given."""
        listed = cls({}, {}, {})
        for group, items in (
            (listed.containers, state.containers.values()),
            (listed.networks, state.networks.values()),
            (listed.volumes, state.volumes.values()),
        ):
            for item in items:
                if stack is None or item.stack == stack:
                    group.setdefault(item.stack, []).append(item)  # type: ignore[arg-type]
        return listed
