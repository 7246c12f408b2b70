"""``ContainerBackend``: the ``Backend`` calls (``controller.backends.interface``) of an engine
that runs a stack as containers, on top of the container calls of ``contract.EngineBackend``.

The Docker engine (``engine.Engine``) and the in-memory one (``controller.backends.memory``)
both are one: the same planner (``planner``), executor (``executor``) and health assessment
(``health``) decide and act for them, so the fake converges stacks as the real one does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from controller.backends.docker.health import assess_health
from controller.backends.docker.planner import image_refs, object_names, plan, teardown
from controller.backends.interface import Fleet, Listing, LogSource, Run, Since, Table
from controller.backends.shared.steps import Plan, StepKind
from controller.desired import DesiredStack
from controller.models.enums import HealthStatus
from controller.models.observed import Snapshot

# What a plan changes besides containers: a look after it lists those again too.
_NOT_CONTAINERS = frozenset(
    {
        StepKind.CREATE_NETWORK,
        StepKind.CREATE_VOLUME,
        StepKind.PULL,
        StepKind.BUILD,
        StepKind.REMOVE_NETWORK,
        StepKind.REMOVE_VOLUME,
    }
)

if TYPE_CHECKING:
    from controller.backends.docker.contract import EngineBackend
    from controller.desired.engine_spec import EngineSpec


class ContainerBackend:
    """Mixed into an engine class that keeps ``contract.EngineBackend``."""

    settles_on_apply = False  # the reconciler waits for the containers' health
    pulls_images = True  # pull_policy is carried out here
    unit = "container"
    spec: EngineSpec

    # -- observing ---------------------------------------------------------------------------

    def observe_stack(
        self, desired: DesiredStack, *, by_name: bool = True, since: Since | None = None
    ) -> Snapshot:
        """``since``: after a plan that changed only containers, only they are looked at again
        (issue 27: a cold apply's look after it was four calls, now one): listed, or, when the
        stack had none and the plan only created some, each inspected by name (``created``)."""
        engine: Any = self
        reuse = None
        if since is not None and not any(s.kind in _NOT_CONTAINERS for s in since.plan.steps):
            reuse = since.observed
            if (created := self.created(since)) is not None:
                return created
        return engine.observe(
            desired.name,
            images=image_refs(desired),
            names=object_names(desired),
            by_name=by_name,
            reuse=reuse,
        )

    def created(self, since: Since) -> Snapshot | None:
        """After a plan that only created containers (and waited) on a stack that had none:
        the look it was made on with those containers, each inspected by its name: a lookup,
        where the engine lists a stack's containers by walking every container it holds (a
        third of a cold apply's engine CPU at 1,000 stacks). ``None`` for any other plan."""
        before: Snapshot = since.observed
        if before.containers or before.foreign_containers or before.project_containers:
            return None
        if any(s.kind not in (StepKind.CREATE, StepKind.WAIT) for s in since.plan.steps):
            return None
        engine: EngineBackend = self  # type: ignore[assignment]
        names = [s.target for s in since.plan.steps if s.kind is StepKind.CREATE]
        found = [c for c in map(engine.container_state, names) if c is not None]
        return replace(before, containers=tuple(sorted(found, key=lambda c: (c.service, c.number))))

    def in_fleet(self, fleet: Fleet, desired: DesiredStack) -> Snapshot:
        return fleet.snapshot(desired.name, images=image_refs(desired), names=object_names(desired))

    # -- deciding ----------------------------------------------------------------------------

    def plan(
        self,
        desired: DesiredStack,
        observed: Snapshot,
        *,
        previous: DesiredStack | None = None,
        adopt: bool = False,
        pull_always: bool = False,
        now: datetime | None = None,
    ) -> Plan:
        return plan(
            desired, observed, previous=previous, adopt=adopt, pull_always=pull_always, now=now
        )

    def problems(self, desired: DesiredStack) -> list[str]:
        return self.cannot_run(desired, self.spec, in_file=True)

    @staticmethod
    def cannot_run(desired: DesiredStack, spec: EngineSpec, *, in_file: bool = False) -> list[str]:
        """What a container engine like ``spec`` cannot carry out (pure): Compose keys it does
        not support (more on a remote engine), and Swarm's own keys."""
        from controller.backends.docker.problems import container_problems
        from controller.backends.shared.problems import in_file as where

        found = container_problems(desired, spec)
        return where(desired, found) if in_file else found

    def teardown(self, observed: Snapshot, *, order: list[list[str]], remove_volumes: bool) -> Plan:
        return teardown(observed, order=order, remove_volumes=remove_volumes)

    def health(self, desired: DesiredStack, observed: Snapshot) -> tuple[HealthStatus, str]:
        return assess_health(desired, observed)

    def runtime(self, desired: DesiredStack, observed: Snapshot) -> dict[str, list[str]]:
        return {
            name: [c.id for c in observed.containers_of(name)] for name in desired.compose.services
        }

    # -- acting ------------------------------------------------------------------------------

    def carry_out(self, the_plan: Plan, run: Run) -> None:
        from controller.backends.docker.executor import ExecutionContext, Executor

        engine: EngineBackend = self  # type: ignore[assignment]
        ctx = ExecutionContext(
            desired=run.desired,
            version=run.version,
            root=run.root,
            files_dir=run.files_dir,
            wait_timeout=run.wait_timeout,
            parallelism=run.parallelism,
            images=known_images(the_plan, run.observed),
        )
        Executor(
            engine,  # type: ignore[arg-type]
            ctx,
            on_step=run.on_step,
            still_ours=run.still_ours,
            on_progress=run.on_progress,
            progress_every=run.progress_every,
            turn=run.turn,
        ).run(the_plan)

    # -- what people look at -----------------------------------------------------------------

    def listing(self, stack: str | None, *, services: list[str]) -> Listing:
        from controller.backends.docker.summaries import ps_table

        found = self.containers(stack)
        headers, rows = ps_table(found, every=stack is None)
        return Listing(self.unit, found, [Table(headers, rows)], {"containers": found})

    def containers(self, stack: str | None) -> list[Any]:
        """The stack's containers as ``ps`` lists them (``containers.ContainerSummary``)."""
        from controller.backends.docker.containers import list_containers

        return list_containers(self, stack=stack)  # type: ignore[arg-type]

    def view(self, observed: Snapshot | None, *, services: list[str]) -> Listing:
        from controller.backends.docker.summaries import container_rows, services_table

        rows = container_rows(services, observed)
        return Listing(self.unit, {"services": rows}, [services_table(rows)], {"services": rows})

    def log_sources(self, stack: str) -> list[LogSource]:
        return [LogSource(c.id, c.name, c.service) for c in self.containers(stack)]

    def read_logs(
        self,
        source: str,
        *,
        follow: bool = False,
        tail: int | None = None,
        since: datetime | None = None,
    ) -> Iterator[str]:
        from controller.backends.docker.containers import container_logs

        return container_logs(self, source, follow=follow, tail=tail, since=since)  # type: ignore[arg-type]


def known_images(the_plan: Plan, observed: Snapshot | None) -> dict[str, str]:
    """The image ids ``observed`` resolved (moments before ``the_plan`` was made on it) that the
    plan does not pull or build again: a create labels its container with them instead of
    asking the engine once more."""
    if observed is None:
        return {}
    refreshed = {s.target for s in the_plan.steps if s.kind in (StepKind.PULL, StepKind.BUILD)}
    return {ref: image for ref, image in observed.images.items() if image and ref not in refreshed}
