"""``Backend``: everything the controller asks of where stacks run, as one ``Protocol``.

A backend is one package (``docker``, ``swarm``, ``memory``) whose engine class provides these
calls; the reconciler, the resync, the removals, the CLI and the console hold a ``Backend`` and
never ask which kind it is. The kind is chosen once, where engines are made from the engines
file (``controller.backends.engines``).

What a backend observes of a stack (``Observed``: a ``Snapshot`` of containers, a Swarm's
``SwarmSnapshot`` of services) is opaque to the callers: they hand it back to the same backend
to plan, judge health or say what runs. Planning is pure (the same inputs, the same plan);
``carry_out`` does a plan's steps, each reported through the ``Run`` it is given.

Rules every backend keeps: only objects labelled as the stack's are seen or touched; every
engine call is counted in ``calls`` (``calls.mutating``: the ones that change something, so an
unchanged stack is asserted to cost zero); errors leave as ``TransientError`` (retry) or
``PermanentError`` (stop), the backend's own chained.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from controller.backends.shared.calls import EngineCalls
    from controller.backends.shared.steps import Plan, Step
    from controller.desired import DesiredStack
    from controller.desired.engine_spec import EngineSpec
    from controller.models.enums import HealthStatus

Observed = Any  # what one backend observes of a stack; only that backend reads it
StepReport = Callable[["Step", float, BaseException | None], None]


class Turn(Protocol):
    """The command's turn at its worker (``controller.reconcile.turns.Turn``)."""

    def waited(self, wait: str) -> float:
        """Seconds ``wait`` already lasted in earlier turns (0 at its first look)."""
        ...

    def give_way(self, doing: str) -> None:
        """Raise ``Yielded`` when waiting work should have the worker now."""
        ...


@dataclass(frozen=True)
class Run:
    """How a plan is carried out: for which version (``desired`` ``None``: a teardown), and
    where each step, "still waiting" line and lease check goes."""

    desired: DesiredStack | None
    version: str | None
    root: Path
    files_dir: Path
    previous: DesiredStack | None = None  # what a Swarm plans again on when refused
    wait_timeout: float = 120.0
    parallelism: int = 4
    on_step: StepReport = field(default=lambda step, seconds, error: None)
    still_ours: Callable[[], None] = field(default=lambda: None)
    on_progress: Callable[[str], None] = field(default=lambda message: None)
    progress_every: float = 10.0
    turn: Turn | None = None  # None: waits hold the worker
    # The observation the plan was made on (a container engine creates from the image ids it
    # resolved moments ago instead of asking again); None: nothing is taken from it.
    observed: Observed = None


@dataclass(frozen=True)
class Since:
    """The observation a plan was made on and that plan, carried out since: a look after it
    (``Backend.observe_stack(since=...)``) may take from the observation what the plan did not
    change (the stack's commands run one at a time; what someone else changes in between is
    drift the next look finds, as it would a moment later)."""

    observed: Observed
    plan: Plan


@dataclass(frozen=True)
class Table:
    """Rows a person reads: a header line, then one line per row."""

    headers: list[str]
    rows: list[list[str]]
    heading: str | None = None  # a line above the table (e.g. the engine did not answer)


@dataclass(frozen=True)
class Listing:
    """What ``stackctl ps``/``describe`` and the console show of a stack on its engine:
    ``data`` for ``-o json/yaml``, ``tables`` for people, ``unit`` what the rows are
    (``container``, ``service``), ``sections``: the same rows by name (``containers``;
    ``services`` and ``tasks``)."""

    unit: str
    data: Any
    tables: list[Table]
    sections: dict[str, list[Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class LogSource:
    """What has logs: a container, or a Swarm service (its tasks' output together)."""

    id: str
    name: str
    service: str


class Fleet(Protocol):
    """An engine listed once, split by stack (the resync's one observation per round)."""

    def snapshot(self, stack: str, *, images: list[str] = ..., names: list[str] = ...) -> Any: ...


@runtime_checkable
class Backend(Protocol):
    spec: EngineSpec
    calls: EngineCalls
    # The carry-out itself waits for the stack to be healthy and rolls a failed update back
    # (Swarm's update_config): no health wait and no rollback watch after it.
    settles_on_apply: bool
    # The controller pulls images as ``pull_policy`` says (a Swarm's nodes pull by themselves).
    pulls_images: bool
    unit: str  # what runs a service, in people's words: ``container``, ``service``

    @property
    def name(self) -> str: ...

    def ping(self) -> None: ...

    # -- observing (read-only) ----------------------------------------------------------------
    def observe(
        self, stack: str, *, images: list[str] = ..., names: list[str] = ..., by_name: bool = ...
    ) -> Observed: ...

    def observe_stack(
        self, desired: DesiredStack, *, by_name: bool = True, since: Since | None = None
    ) -> Observed:
        """What runs for ``desired`` (with the facts its plan needs: its images, its names);
        after a plan was carried out (``since``), what it did not change may be taken from the
        observation it was made on."""
        ...

    def observe_fleet(self) -> Fleet: ...

    def in_fleet(self, fleet: Fleet, desired: DesiredStack) -> Observed:
        """``desired``'s slice of a fleet observation."""
        ...

    # -- deciding (pure) ----------------------------------------------------------------------
    def plan(
        self,
        desired: DesiredStack,
        observed: Observed,
        *,
        previous: DesiredStack | None = None,
        adopt: bool = False,
        pull_always: bool = False,
        now: datetime | None = None,
    ) -> Plan: ...

    def problems(self, desired: DesiredStack) -> list[str]:
        """What this engine cannot carry out of ``desired`` beyond the plan's own problems
        (each naming the manifest's file): a move checks them before tearing anything down."""
        ...

    def teardown(self, observed: Observed, *, order: list[list[str]], remove_volumes: bool) -> Plan:
        """Removing what runs for the stack, dependents first (``order``: its levels)."""
        ...

    def health(self, desired: DesiredStack, observed: Observed) -> tuple[HealthStatus, str]: ...

    def runtime(self, desired: DesiredStack, observed: Observed) -> dict[str, list[str]]:
        """What runs each service (container ids): recorded with the applied version."""
        ...

    # -- acting -------------------------------------------------------------------------------
    def carry_out(self, the_plan: Plan, run: Run) -> None: ...

    # -- what people look at ------------------------------------------------------------------
    def listing(self, stack: str | None, *, services: list[str]) -> Listing:
        """What runs for ``stack`` (``None``: every stack, where the backend can list them),
        the recorded version's ``services`` first."""
        ...

    def view(self, observed: Observed | None, *, services: list[str]) -> Listing:
        """``describe``'s and the console's rows of an observation (``None``: the engine did
        not answer; the rows say unknown)."""
        ...

    def log_sources(self, stack: str) -> list[LogSource]: ...

    def read_logs(
        self,
        source: str,
        *,
        follow: bool = False,
        tail: int | None = None,
        since: datetime | None = None,
    ) -> Iterator[str]: ...
