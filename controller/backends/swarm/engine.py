"""``SwarmEngine``: a Swarm manager as a ``Backend`` (``controller.backends.interface``,
``kind: swarm``): what it runs is observed and acted on through services
(``services.SwarmServices``), planned by ``planner.stack`` (services, not containers), carried
out by ``executor.SwarmApply`` (which waits for each changed service: Swarm rolls a failed update
back by its ``update_config``, so there is no health wait after it), judged by ``health``. Its
rows are services and their tasks (``models.swarm_rows``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from controller.backends.interface import Fleet, Listing, LogSource, Run, Since, Table
from controller.backends.shared.steps import Plan
from controller.backends.swarm.executor import SwarmApply
from controller.backends.swarm.health import assess_swarm_health
from controller.backends.swarm.planner.service_spec import swarm_problems
from controller.backends.swarm.planner.stack import swarm_plan, swarm_teardown
from controller.backends.swarm.services import SwarmServices
from controller.desired import DesiredStack
from controller.models.enums import HealthStatus
from controller.models.swarm import SwarmSnapshot
from controller.models.swarm_rows import ServiceRow, TaskRow, service_rows, task_rows

if TYPE_CHECKING:
    from controller.desired.engine_spec import EngineSpec


class SwarmEngine(SwarmServices):
    """A Swarm manager, the ``Backend`` calls on top of its services' operations."""

    settles_on_apply = True  # each service's update is waited for; Swarm rolls back
    pulls_images = False  # a Swarm's nodes pull when they start tasks
    unit = "service"

    def observe_stack(
        self, desired: DesiredStack, *, by_name: bool = True, since: Since | None = None
    ) -> SwarmSnapshot:
        return self.observe(desired.name)  # a Swarm's apply settles: nothing to take

    def in_fleet(self, fleet: Fleet, desired: DesiredStack) -> SwarmSnapshot:
        return fleet.snapshot(desired.name)

    def plan(
        self,
        desired: DesiredStack,
        observed: SwarmSnapshot,
        *,
        previous: DesiredStack | None = None,
        adopt: bool = False,
        pull_always: bool = False,
        now: datetime | None = None,
    ) -> Plan:
        """Swarm's plan: what Compose adopts and pulls does not apply to services."""
        return swarm_plan(desired, observed, previous=previous)

    def problems(self, desired: DesiredStack) -> list[str]:
        return []  # the plan says what Swarm cannot run (``swarm_problems``)

    @staticmethod
    def cannot_run(desired: DesiredStack, spec: EngineSpec, *, in_file: bool = False) -> list[str]:
        """What a Swarm cannot carry out of ``desired`` (pure)."""
        from controller.backends.shared.problems import in_file as where

        found = swarm_problems(desired)
        return where(desired, found) if in_file else found

    def teardown(
        self, observed: SwarmSnapshot, *, order: list[list[str]], remove_volumes: bool
    ) -> Plan:
        """Services, secrets, configs and networks go; volumes stay on the nodes."""
        return swarm_teardown(observed)

    def health(self, desired: DesiredStack, observed: SwarmSnapshot) -> tuple[HealthStatus, str]:
        return assess_swarm_health(desired, observed)

    def runtime(self, desired: DesiredStack, observed: SwarmSnapshot) -> dict[str, list[str]]:
        return {
            name: [t.container_id or t.id for t in service.tasks if t.state == "running"]
            for name in desired.compose.services
            if (service := observed.service(name)) is not None
        }

    def carry_out(self, the_plan: Plan, run: Run) -> None:
        """The plan's steps in order (``executor``); planned again when Swarm refuses an
        update as out of sequence. A teardown (no ``desired``) runs as planned."""
        apply = SwarmApply(
            self,
            on_step=run.on_step,
            still_ours=run.still_ours,
            on_progress=run.on_progress,
            progress_every=run.progress_every,
            wait_timeout=run.wait_timeout,
        )
        if run.desired is None:
            apply.run(the_plan, None)
        else:
            apply.carry_out(the_plan, run.desired, previous=run.previous)

    # -- what people look at -----------------------------------------------------------------

    def listing(self, stack: str | None, *, services: list[str]) -> Listing:
        """The stack's services and their tasks (``describe``'s rows); the services of the
        recorded version first, all of the snapshot's when none is recorded."""
        snapshot = self.observe(stack or "")
        wanted = services or sorted({s.service for s in snapshot.services})
        listing = self.view(snapshot, services=wanted)
        return Listing(self.unit, {"stack": stack, **listing.data}, listing.tables, listing.data)

    def view(self, observed: SwarmSnapshot | None, *, services: list[str]) -> Listing:
        rows = service_rows(services, observed)
        tasks = task_rows(services, observed)
        data: dict[str, Any] = {"services": rows, "tasks": tasks}
        return Listing(self.unit, data, [_services_table(rows), _tasks_table(tasks)], data)

    def log_sources(self, stack: str) -> list[LogSource]:
        observed = self.observe(stack).services
        return [LogSource(s.id, s.name, s.service) for s in observed]

    def read_logs(
        self,
        source: str,
        *,
        follow: bool = False,
        tail: int | None = None,
        since: datetime | None = None,
    ) -> Iterator[str]:
        return self.service_logs(source, follow=follow, tail=tail, since=since)


def _short(text: str | None, limit: int) -> str:
    """One line of at most ``limit`` characters, as the CLI's ``output.short``."""
    if not text:
        return "-"
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _services_table(rows: list[ServiceRow]) -> Table:
    return Table(
        ["SERVICE", "MODE", "RUNNING", "IMAGE", "UPDATE"],
        [
            [
                r.service,
                r.mode or "-",
                r.tasks,
                (r.image or "-").partition("@sha256:")[0],  # the digest: in -o json
                _short(r.update, 80),
            ]
            for r in rows
        ],
        heading="Services",
    )


def _tasks_table(tasks: list[TaskRow]) -> Table:
    return Table(
        ["TASK", "SERVICE", "SLOT", "NODE", "STATE", "DESIRED", "ERROR"],
        [
            [
                t.id[:12],
                t.service,
                "-" if t.slot is None else t.slot,
                t.node[:12] or "-",
                t.state,
                t.desired_state,
                _short(t.error, 80),
            ]
            for t in tasks
        ],
        heading="Tasks",
    )
