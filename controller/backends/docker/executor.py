"""Carrying out a ``Plan`` on the engine: ordering, bounded parallelism, waits, step logs.

Order (docs/architecture.md, "Decisions the code relies on"): networks and volumes; then services
level by level of the ``depends_on`` graph, the services of one level in parallel (bounded), each
service's own steps in sequence, then the level's waits; then removals of orphans and networks. Each
step reports to ``on_step`` (the reconciler writes the command log line and prints) with its
duration.

A ``depends_on`` wait counts from its first look, across the command's turns, and may give its
worker to waiting work at each tick (``turn``: ``controller.reconcile.turns``); the command then
goes
back to the queue and, re-planned, waits on from where it was.

A recreate is Compose's: create the replacement under a temporary name, stop and remove the old
container, rename the new one, start it. If creating fails, the old container keeps running.
The temporary name carries a fresh token: a replacement left by a controller killed mid-recreate
never blocks the next one (the planner removes such leftovers, see ``planner.replicas``). A name
the engine says is taken by a container of this same stack is freed (logged as its own step)
and the create tried once more: no name conflict with one of our containers is permanent.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from controller.backends.docker import Engine
from controller.backends.docker.planner import (
    Plan,
    Step,
    StepKind,
    image_ref,
    replacement_name,
    replica_names,
)
from controller.desired import DesiredStack
from controller.models.errors import NameInUseError, PermanentError, TransientError, Yielded
from controller.models.observed import ObservedContainer

StepReport = Callable[[Step, float, BaseException | None], None]


@dataclass(frozen=True)
class ExecutionContext:
    """``desired`` is ``None`` for a teardown (a DELETE's plan only removes)."""

    desired: DesiredStack | None
    version: str | None
    root: Path
    files_dir: Path
    wait_timeout: float = 120.0
    parallelism: int = 4
    # Image ids resolved moments before the plan was made, for refs it does not pull or build
    # (``backend.known_images``): a create takes its image's id from here, not from the engine.
    images: Mapping[str, str] = field(default_factory=dict)


class Turn(Protocol):
    """The command's turn at its worker (``controller.reconcile.turns.Turn``)."""

    def waited(self, wait: str) -> float:
        """Seconds ``wait`` already lasted in earlier turns (0 at its first look)."""
        ...

    def give_way(self, doing: str) -> None:
        """Raise ``Yielded`` when waiting work should have the worker now."""
        ...


class HoldTheWorker:
    """Waits that never give way (a teardown, the command line converging its own stacks)."""

    def waited(self, wait: str) -> float:
        return 0.0

    def give_way(self, doing: str) -> None:
        return None


class Executor:
    def __init__(
        self,
        engine: Engine,
        ctx: ExecutionContext,
        *,
        on_step: StepReport,
        still_ours: Callable[[], None] = lambda: None,
        on_progress: Callable[[str], None] = lambda message: None,
        progress_every: float = 10.0,
        turn: Turn | None = None,
    ) -> None:
        self._engine = engine
        self._ctx = ctx
        self._on_step = on_step
        self._still_ours = still_ours  # raises when the command's lease was lost or cancelled
        self._on_progress = on_progress  # "still waiting for ..." during long waits
        self._progress_every = progress_every
        self._turn = turn or HoldTheWorker()

    def run(self, plan: Plan) -> None:
        levels = [set(names) for names in plan.levels]
        in_levels = set().union(*levels) if levels else set()
        first = [
            s
            for s in plan.steps
            if s.service is None and s.kind in (StepKind.CREATE_NETWORK, StepKind.CREATE_VOLUME)
        ]
        last = [s for s in plan.steps if s not in first and s.service not in in_levels]
        for step in first:
            self._run_step(step)
        for names in levels:
            steps = [s for s in plan.steps if s.service in names]
            self._run_parallel([s for s in steps if s.kind is not StepKind.WAIT])
            self._run_parallel([s for s in steps if s.kind is StepKind.WAIT], by_service=False)
        for step in last:
            self._run_step(step)

    def _run_parallel(self, steps: list[Step], *, by_service: bool = True) -> None:
        if not steps:
            return
        groups: dict[str, list[Step]] = {}
        for index, step in enumerate(steps):
            key = step.service if by_service and step.service else str(index)
            groups.setdefault(key, []).append(step)
        if len(groups) == 1:
            for step in steps:
                self._run_step(step)
            return
        with ThreadPoolExecutor(max_workers=min(self._ctx.parallelism, len(groups))) as pool:
            futures = [pool.submit(self._run_sequence, group) for group in groups.values()]
            errors = [f.exception() for f in futures]
        failures = [e for e in errors if e is not None]
        if failures:
            raise failures[0]

    def _run_sequence(self, steps: list[Step]) -> None:
        for step in steps:
            self._run_step(step)

    def _run_step(self, step: Step) -> None:
        self._still_ours()
        started = time.monotonic()
        try:
            self._do(step)
        except Yielded:
            raise  # not a failure: the step goes on in the command's next turn
        except BaseException as e:
            self._on_step(step, time.monotonic() - started, e)
            raise
        self._on_step(step, time.monotonic() - started, None)

    @property
    def _desired(self) -> DesiredStack:
        if self._ctx.desired is None:
            raise PermanentError("a teardown plan holds a step that needs the stack's spec")
        return self._ctx.desired

    def _do(self, step: Step) -> None:
        ctx, engine = self._ctx, self._engine
        match step.kind:
            case StepKind.CREATE_NETWORK:
                desired = self._desired
                engine.create_network(desired, _key(desired.compose.networks, step.target))
            case StepKind.CREATE_VOLUME:
                desired = self._desired
                engine.create_volume(desired, _key(desired.compose.volumes, step.target))
            case StepKind.PULL:
                engine.pull(step.target)
            case StepKind.BUILD:
                engine.build(self._desired, step.service or "", ref=step.target, root=ctx.root)
            case StepKind.CREATE:
                engine.start(self._create(step, step.target))
            case StepKind.RECREATE:
                self._recreate(step)
            case StepKind.START:
                engine.start(step.container_id or step.target)
            case StepKind.STOP:
                engine.stop(step.container_id or step.target)
            case StepKind.REMOVE:
                engine.stop_and_remove(step.container_id or step.target)
            case StepKind.REMOVE_NETWORK:
                engine.remove_network(step.target)
            case StepKind.REMOVE_VOLUME:
                engine.remove_volume(step.target)
            case StepKind.WAIT:
                self._wait(step)

    def _create(self, step: Step, name: str) -> str:
        service = step.service or ""
        spec = self._desired.compose.services[service]

        image = image_ref(self._desired.name, service, service=spec)

        def create() -> str:
            return self._engine.create_container(
                self._desired,
                service=service,
                number=step.number or 1,
                name=name,
                image=image,
                root=self._ctx.root,
                files_dir=self._ctx.files_dir,
                version=self._ctx.version,
                image_id=self._ctx.images.get(image),
            )

        try:
            return create()
        except NameInUseError as e:
            if self._engine.owner(e.holder) != self._desired.name:
                raise  # someone else's container: never touched
            self._run_step(
                Step(
                    StepKind.REMOVE,
                    e.name,
                    f"a leftover container of this stack holds the name {name}",
                    service=service,
                    number=step.number,
                    container_id=e.holder,
                )
            )
            return create()

    def _recreate(self, step: Step) -> None:
        old = step.container_id or step.target
        new = self._create(step, replacement_name(step.target, old, secrets.token_hex(3)))
        try:
            self._engine.stop(old)
            self._engine.remove_container(old)
        except BaseException:
            self._engine.remove_container(new)  # keep the old one; the next run converges
            raise
        self._engine.rename(new, step.target)
        self._engine.start(new)

    def _wait(self, step: Step) -> None:
        """Until every replica of ``step.target`` meets ``step.condition``, within the wait
        timeout counted from the wait's first look (an earlier turn's, when it gave way)."""
        desired = self._desired
        service = desired.compose.services[step.target]
        names = [name for _, name in replica_names(desired.name, step.target, service=service)]
        started = time.monotonic() - self._turn.waited(step.target)
        deadline = started + self._ctx.wait_timeout
        said = time.monotonic()
        while True:
            self._still_ours()
            states = [self._engine.container_state(name) for name in names]
            if all(
                _meets(c, condition=step.condition or "service_started", name=name)
                for c, name in zip(states, names, strict=True)
            ):
                return
            now = time.monotonic()
            if now - said >= self._progress_every:
                said = now
                seen = ", ".join(
                    f"{name} {c.health or c.state}" if c else f"{name} missing"
                    for c, name in zip(states, names, strict=True)
                )
                self._on_progress(
                    f"waiting for {step.target} to be {step.condition}: {seen}"
                    f" ({now - started:.0f}s of {self._ctx.wait_timeout:.0f}s)"
                )
            if time.monotonic() > deadline:
                raise TransientError(
                    f"{step.target} did not become {step.condition} within"
                    f" {self._ctx.wait_timeout:.0f}s"
                )
            self._turn.give_way(
                f"waiting for {step.target} to be {step.condition}"
                f" ({now - started:.0f}s of {self._ctx.wait_timeout:.0f}s)"
            )
            time.sleep(0.1)


def _meets(container: ObservedContainer | None, *, condition: str, name: str) -> bool:
    if container is None:
        raise TransientError(f"{name} disappeared while waiting for it")
    match condition:
        case "service_healthy":
            if container.health is None:
                raise PermanentError(
                    f"{name} has no healthcheck, but a dependent waits for service_healthy"
                )
            if container.state == "exited":
                raise TransientError(f"{name} exited with code {container.exit_code}")
            return container.health == "healthy"
        case "service_completed_successfully":
            if container.state == "exited" and container.exit_code not in (0, None):
                raise PermanentError(f"{name} exited with code {container.exit_code}")
            return container.state == "exited"
        case _:
            return container.state in ("running", "exited", "paused", "restarting")


def _key(items: dict, name: str) -> str:
    for key, item in items.items():
        if item.name == name:
            return key
    raise PermanentError(f"{name} is not in the stack's spec")
