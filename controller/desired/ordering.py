"""The order of a stack's services: levels of the ``depends_on`` graph (pure). The planners
create level by level, the removals tear down in reverse; the loader has refused cycles and
unknown services already."""

from __future__ import annotations

from controller.desired.compose import Service


def dependency_levels(services: dict[str, Service]) -> list[list[str]]:
    """Services grouped by depth in the ``depends_on`` graph, each level sorted by name. The
    loader has refused cycles and unknown services already."""
    depth: dict[str, int] = {}

    def visit(name: str) -> int:
        if name not in depth:
            deps = [d for d in services[name].depends_on if d in services]
            depth[name] = 1 + max((visit(d) for d in deps), default=-1)
        return depth[name]

    for name in services:
        visit(name)
    levels: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for name in sorted(services):
        levels[depth[name]].append(name)
    return levels
