"""Carrying out a Swarm plan (``swarm.planner``) on a ``SwarmServices``: steps in order, waits.

The steps run one after the other in the plan's order (networks, secrets and configs, each
``depends_on`` level's service creates and updates then their waits, removals last); each
reports to ``on_step`` with its duration, as the container executor's do.

A wait follows the service until Swarm says it converged: no update under way, every wanted
task running on the current task template (for a service with a healthcheck Swarm says
``running`` only once healthy) and no task of an older template still meant to run. An update
Swarm ends ``paused`` or ``rollback_completed`` (``update_config.failure_action``) fails the
command with Swarm's own message (``PermanentError``: retrying the same spec would fail the
same way until the manifest changes); an update state older than this wait (the
``UpdateStatus.StartedAt`` observed before the update) does not count. Applied again, the same
spec is sent with ``ForceUpdate`` raised, or Swarm would not redo it. Not converged within the
timeout is a ``TransientError`` naming the tasks' last error.

``converge`` plans on a fresh observation, carries the plan out and looks again (what runs,
its health); an update Swarm refuses as out of sequence (the service changed since it was
observed) is planned again on what it is now, at most ``REPLANS`` times.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from controller.backends.shared.steps import Plan, Step, StepKind
from controller.backends.swarm.health import assess_swarm_health
from controller.backends.swarm.planner.service_spec import service_spec
from controller.backends.swarm.planner.stack import swarm_plan
from controller.backends.swarm.services import OutOfSequence, SwarmServices
from controller.desired import DesiredStack
from controller.models import HealthStatus
from controller.models.errors import PermanentError, StackctlError, TransientError
from controller.models.swarm import (
    FAILED_UPDATE_STATES,
    PAUSED_UPDATE_STATES,
    ObservedService,
)


@dataclass(frozen=True)
class Applied:
    plan: Plan
    health: tuple[HealthStatus, str]
    runtime: dict[str, list[str]]  # service -> its running tasks' container ids


StepReport = Callable[[Step, float, BaseException | None], None]
REPLANS = 3
POLL = 0.5  # seconds between looks at a service being waited for


class SwarmApply:
    def __init__(
        self,
        engine: SwarmServices,
        *,
        on_step: StepReport,
        still_ours: Callable[[], None] = lambda: None,
        on_progress: Callable[[str], None] = lambda message: None,
        progress_every: float = 10.0,
        wait_timeout: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._on_step = on_step
        self._still_ours = still_ours  # raises when the command's lease was lost or cancelled
        self._on_progress = on_progress
        self._progress_every = progress_every
        self._timeout = wait_timeout
        self._clock = clock

    def converge(
        self,
        desired: DesiredStack,
        *,
        previous: DesiredStack | None,
        on_plan: Callable[[Plan], None],
    ) -> Applied:
        """Plan, let ``on_plan`` see the plan (log it, mark the version), carry it out, and
        look again: what runs then, and its health. Raises when something is left to change."""
        the_plan = self.plan(desired, previous=previous)
        if the_plan.problems:
            raise PermanentError("; ".join(the_plan.problems))
        on_plan(the_plan)
        if not the_plan.in_sync:
            self.carry_out(the_plan, desired, previous=previous)
        final = self._engine.observe(desired.name)
        left = swarm_plan(desired, final, previous=desired).changes
        if left:
            raise TransientError("not converged: " + "; ".join(s.describe() for s in left))
        runtime = {
            name: [t.container_id or t.id for t in service.tasks if t.state == "running"]
            for name in desired.compose.services
            if (service := final.service(name)) is not None
        }
        return Applied(the_plan, assess_swarm_health(desired, final), runtime)

    def plan(self, desired: DesiredStack, *, previous: DesiredStack | None) -> Plan:
        """The plan on what the swarm runs now."""
        return swarm_plan(desired, self._engine.observe(desired.name), previous=previous)

    def carry_out(
        self, the_plan: Plan, desired: DesiredStack, *, previous: DesiredStack | None
    ) -> None:
        """Run ``the_plan``; planned again on what runs when Swarm refuses an update as out of
        sequence, at most ``REPLANS`` times."""
        for attempt in range(REPLANS + 1):
            if the_plan.problems:
                raise PermanentError("; ".join(the_plan.problems))
            try:
                self.run(the_plan, desired)
                return
            except OutOfSequence as e:
                if attempt == REPLANS:
                    raise
                self._on_progress(f"planning again: a service changed meanwhile ({e})")
                the_plan = self.plan(desired, previous=previous)

    def run(self, the_plan: Plan, desired: DesiredStack | None) -> None:
        created: dict[str, str] = {}  # service key -> id, for the waits
        started: dict[str, str] = {}  # service key -> UpdateStatus.StartedAt before updating
        for step in the_plan.steps:
            self._still_ours()
            begun = self._clock()
            try:
                self._do(step, desired, created=created, started=started)
            except StackctlError as e:
                self._on_step(step, self._clock() - begun, e)
                raise
            self._on_step(step, self._clock() - begun, None)

    def _do(
        self,
        step: Step,
        desired: DesiredStack | None,
        *,
        created: dict[str, str],
        started: dict[str, str],
    ) -> None:
        engine = self._engine
        match step.kind:
            case StepKind.CREATE_NETWORK:
                assert desired is not None and step.service is not None
                engine.create_network(desired, step.service)
            case StepKind.CREATE_SECRET | StepKind.CREATE_CONFIG:
                assert desired is not None and step.service is not None
                kind = "secrets" if step.kind is StepKind.CREATE_SECRET else "configs"
                engine.create_file(desired, step.target, key=step.service, kind=kind)
            case StepKind.CREATE_SERVICE:
                assert desired is not None and step.service is not None
                created[step.service] = engine.create_service(service_spec(desired, step.service))
            case StepKind.UPDATE_SERVICE:
                assert desired is not None and step.service is not None
                assert step.object_id is not None and step.object_version is not None
                before = engine.service(step.object_id)
                started[step.service] = before.update_started if before else ""
                spec = service_spec(desired, step.service)
                if before is not None and before.update_state in PAUSED_UPDATE_STATES:
                    # The same spec again: Swarm redoes an update only when ForceUpdate moves.
                    task = {**spec["TaskTemplate"], "ForceUpdate": before.force_update + 1}
                    spec = {**spec, "TaskTemplate": task}
                engine.update_service(step.object_id, step.object_version, spec)
                created[step.service] = step.object_id
            case StepKind.WAIT:
                assert step.service is not None
                self._wait(step.service, created[step.service], since=started.get(step.service))
            case StepKind.REMOVE_SERVICE:
                assert step.object_id is not None
                engine.remove_service(step.object_id)
            case StepKind.REMOVE_SECRET | StepKind.REMOVE_CONFIG:
                assert step.object_id is not None
                kind = "secret" if step.kind is StepKind.REMOVE_SECRET else "config"
                engine.remove_object(kind, step.object_id)
            case StepKind.REMOVE_NETWORK:
                assert step.object_id is not None
                self._remove_network(step.object_id)
            case _:
                raise PermanentError(f"{step.kind} is not a Swarm step")

    def _wait(self, name: str, service_id: str, *, since: str | None) -> None:
        """Until the service converged (module docstring), or fail with Swarm's reason."""
        deadline = self._clock() + self._timeout
        said = self._clock()
        while True:
            self._still_ours()
            service = self._engine.service(service_id)
            if service is None:
                raise TransientError(f"{name}: the service was removed while waited for")
            state = service.update_state if service.update_started != since else None
            if state in FAILED_UPDATE_STATES - {"rollback_started"}:
                raise PermanentError(
                    f"{name}: Swarm's update ended {state}: {service.update_message or '-'}"
                )
            if state not in ("updating", "rollback_started") and _converged(service):
                return
            now = self._clock()
            if now >= deadline:
                raise TransientError(
                    f"{name}: not converged after {self._timeout:.0f}s: {_tally(service)}"
                )
            if now - said >= self._progress_every:
                self._on_progress(f"waiting for {name}: {_tally(service)}")
                said = now
            time.sleep(POLL)

    def _remove_network(self, network_id: str) -> None:
        """A network is gone once the tasks of the removed services left it: Swarm accepts the
        removal at once but keeps the network on the node until their containers stopped, and
        refuses it while a task still uses it ("active endpoints"); both are waited out."""
        deadline = self._clock() + self._timeout
        removed = False
        while True:
            if not removed:
                try:
                    self._engine.remove_object("network", network_id)
                    removed = True
                except StackctlError as e:
                    if "not found" in str(e):  # out of Swarm's store, still on the node
                        removed = True
                    elif "active endpoints" not in str(e) and "in use" not in str(e):
                        raise
            if removed and not self._engine.network_exists(network_id):
                return
            if self._clock() >= deadline:
                raise TransientError(f"network {network_id[:12]} still there after removal")
            self._still_ours()
            time.sleep(POLL)


def _converged(service: ObservedService) -> bool:
    wanted = service.wanted
    if service.replicas is None and wanted == 0:
        return False  # a global service whose tasks are not there yet
    return service.running >= wanted and not service.outdated


def _tally(service: ObservedService) -> str:
    said = f"{service.running}/{service.wanted} tasks running"
    if service.outdated:
        said += f", {service.outdated} of the previous spec"
    if service.update_state:
        said += f", update {service.update_state}"
    if service.last_error:
        said += f"; last task error: {service.last_error}"
    return said
