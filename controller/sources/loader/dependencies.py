"""The rules between a document's services: ``depends_on`` targets (unknown or disabled by
profiles), the implicit dependency of ``network_mode: service:X``, cycles, and the depth of a
chain (at most ``MAX_DEPENDENCY_DEPTH`` services).
"""

from __future__ import annotations

from controller.desired.compose import Dependency, Service
from controller.sources.loader.context import ComposeContext

# Services in one `depends_on` chain: each level is started and waited for in turn, and the
# planner orders them recursively; no real stack comes near this.
MAX_DEPENDENCY_DEPTH = 100


def resolve_dependencies(
    ctx: ComposeContext,
    name: str,
    *,
    service: Service,
    known: set[str],
    inactive: set[str],
    active: dict[str, Service],
) -> Service:
    """Check ``depends_on`` targets; add the implicit one of ``network_mode: service:X``."""
    deps: dict[str, Dependency] = {}
    for target, dep in service.depends_on.items():
        path = ("services", name, "depends_on", target)
        if target not in known:
            ctx.issues.error(path, f"depends on the unknown service `{target}`")
        elif target in inactive and dep.required:
            ctx.issues.error(
                path,
                f"depends on `{target}`, which is disabled: none of its profiles is active"
                f" ({_profiles_text(ctx, target)})",
            )
        elif target in inactive:
            ctx.issues.warn(
                path, f"optional dependency on the disabled service `{target}` left out"
            )
        else:
            deps[target] = dep
    mode = service.network_mode or ""
    if mode.startswith("service:"):
        target = mode.removeprefix("service:")
        if target not in active:
            ctx.issues.error(
                ("services", name, "network_mode"),
                f"`{target}` is not an active service of this stack",
            )
        else:
            # As Compose: restarted with its target, whose network namespace it shares.
            deps.setdefault(target, Dependency(restart=True))
    return (
        service if deps == service.depends_on else service.model_copy(update={"depends_on": deps})
    )


def _profiles_text(ctx: ComposeContext, name: str) -> str:
    active = ", ".join(sorted(ctx.profiles)) or "none"
    return f"its profiles: {', '.join(ctx.disabled.get(name, []))}; active: {active}"


def check_graph(ctx: ComposeContext, services: dict[str, Service]) -> None:
    """Report every ``depends_on`` cycle once and, without cycles, a chain deeper than
    ``MAX_DEPENDENCY_DEPTH``. Iterative on purpose: a file may chain thousands of services,
    and a recursive walk would overflow Python's stack."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    depth: dict[str, int] = {}  # services in the longest chain from each finished service
    reported: set[frozenset[str]] = set()
    for start in sorted(services):
        if start in state:
            continue
        trail, pending = [start], [iter(services[start].depends_on)]
        state[start] = 1
        while trail:
            name = trail[-1]
            dep = next(pending[-1], None)
            if dep is None:  # every dependency of `name` is done (or on the path: a cycle)
                state[name] = 2
                deps = [d for d in services[name].depends_on if d in services]
                depth[name] = 1 + max((depth.get(d, 0) for d in deps), default=0)
                trail.pop()
                pending.pop()
            elif dep in services and state.get(dep) == 1:
                cycle = [*trail[trail.index(dep) :], dep]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    ctx.issues.error(("services", name, "depends_on", dep), _cycle_text(cycle))
            elif dep in services and dep not in state:
                state[dep] = 1
                trail.append(dep)
                pending.append(iter(services[dep].depends_on))
    deepest = max(sorted(depth), key=lambda n: depth[n], default=None)
    if not reported and deepest is not None and depth[deepest] > MAX_DEPENDENCY_DEPTH:
        ctx.issues.error(
            ("services", deepest, "depends_on"),
            f"its `depends_on` chain is {depth[deepest]} services deep; "
            f"at most {MAX_DEPENDENCY_DEPTH} are supported",
        )


def _cycle_text(cycle: list[str]) -> str:
    """``a -> b -> a``; a long cycle by its ends, so that one error stays one line."""
    if len(cycle) <= 11:
        return "dependency cycle: " + " -> ".join(cycle)
    return f"dependency cycle of {len(cycle) - 1} services: " + " -> ".join(
        [*cycle[:3], "...", *cycle[-2:]]
    )
