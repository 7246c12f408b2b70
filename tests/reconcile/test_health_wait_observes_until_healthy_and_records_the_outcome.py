"""``HealthWait`` on a database alone, with a stand-in ``observe`` that plays back snapshots:
the wait ends at Healthy or Degraded, at its deadline, or (in the controller) as soon as
another command waits for the worker; it says its progress; ``healthy`` marks the version and
says a recovery; ``unhealthy`` says a health change once and queues one follow-up RECONCILE,
carrying the automatic rollback's watch, for a wait cut short. It never touches an engine."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from helpers.seeding import record
from helpers.stacks import desired_stack

from controller.db import Database
from controller.delivery.rollbacks.watch import Watch
from controller.desired import DesiredStack
from controller.models import Command, CommandType, HealthStatus, LogLevel
from controller.models.observed import ObservedContainer, Snapshot
from controller.reconcile.health_wait import HealthWait

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def snapshot(state: str = "running", health: str | None = None, **more: Any) -> Snapshot:
    """The engine's view of ``shop`` with its one replica ``shop-web-1`` (or none: "absent")."""
    if state == "absent":
        return Snapshot(stack="shop")
    web = ObservedContainer(
        id="c1",
        name="shop-web-1",
        service="web",
        number=1,
        config_hash="h",
        image_id="sha256:1",
        state=state,
        health=health,
        **more,
    )
    return Snapshot(stack="shop", containers=(web,))


STARTING = snapshot(health="starting")
HEALTHY = snapshot(health="healthy")
UNHEALTHY = snapshot(health="unhealthy")


class Engine:
    """Plays back ``snapshots`` (the last one for ever) and counts the looks."""

    def __init__(self, *snapshots: Snapshot) -> None:
        self._snapshots = list(snapshots)
        self.looks = 0

    def observe(self, desired: DesiredStack) -> Snapshot:
        assert desired.name == "shop"
        self.looks += 1
        return self._snapshots.pop(0) if len(self._snapshots) > 1 else self._snapshots[0]


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[int | None, LogLevel, str]] = []

    def __call__(self, command: Command, level: LogLevel, message: str) -> None:
        self.lines.append((command.command_id, level, message))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    db = Database(db_path=tmp_path / "s.db", clock=lambda: NOW)
    record(db, tmp_path, "shop", "i:1", applied=True)
    yield db
    db.close()


@pytest.fixture
def desired(tmp_path: Path) -> DesiredStack:
    return desired_stack(tmp_path / "d", "shop", {"services": {"web": {"image": "i:1"}}})


@pytest.fixture
def running(db: Database) -> Command:
    """The APPLY on the worker (RUNNING): the command whose wait this is."""
    db.commands.enqueue(Command(stack_id="shop", type=CommandType.APPLY_STACK_VERSION))
    claimed = db.commands.claim(worker_id="w1")
    assert claimed is not None
    return claimed


def make(
    db: Database, engine: Engine, log: Log, *, yield_to_others: bool = False, workers: int = 1
) -> HealthWait:
    return HealthWait(
        db,
        observe=engine.observe,
        log=log,
        yield_to_others=yield_to_others,
        worker_limit=workers,
        progress_every=0.3,
        follow_up_after=5.0,
    )


def within(seconds: float) -> Callable[[], None]:
    """A ``check`` that fails the test when the wait is still going after ``seconds``."""
    until = time.monotonic() + seconds

    def check() -> None:
        assert time.monotonic() < until, f"the wait lasted over {seconds} s"

    return check


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


@pytest.mark.parametrize("last", [HEALTHY, UNHEALTHY, snapshot("exited", exit_code=3)])
def test_the_wait_ends_at_healthy_or_degraded(db, desired, running, last):
    engine, log, checks = Engine(STARTING, STARTING, last), Log(), []
    wait = make(db, engine, log)
    (seen, cut_short), took = timed(
        lambda: wait.wait(running, desired, check=lambda: checks.append(1), wait=30.0, timeout=30.0)
    )
    assert (seen, cut_short) == (last, None)
    assert engine.looks == 3 and len(checks) == 3  # checked before each look
    assert took < 5.0


def test_an_unchanged_stack_is_looked_at_once(db, desired, running):
    engine, log = Engine(STARTING), Log()
    seen, cut_short = make(db, engine, log).wait(
        running, desired, check=within(5.0), wait=0.0, timeout=30.0
    )
    assert (seen, cut_short, engine.looks) == (STARTING, None, 1)
    assert log.lines == []


def test_the_wait_ends_at_its_deadline_saying_what_it_waits_for(db, desired, running):
    engine, log = Engine(snapshot("absent")), Log()
    (seen, cut_short), took = timed(
        lambda: make(db, engine, log).wait(
            running, desired, check=within(5.0), wait=1.0, timeout=120.0
        )
    )
    assert (seen, cut_short) == (snapshot("absent"), None)
    assert 1.0 <= took < 3.0 and engine.looks >= 3
    assert log.lines, "no progress said"
    for command_id, level, message in log.lines:
        assert (command_id, level) == (running.command_id, LogLevel.INFO)
        assert message.startswith("waiting for shop to be healthy: missing: shop-web-1 (")
        assert message.endswith("s of 120s)")


def test_a_cancel_raised_by_check_ends_the_wait(db, desired, running):
    engine, log = Engine(STARTING), Log()

    def cancelled() -> None:
        raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError, match="cancelled"):
        make(db, engine, log).wait(running, desired, check=cancelled, wait=30.0, timeout=30.0)
    assert engine.looks == 0


def test_a_newer_command_of_the_stack_ends_the_wait(db, desired, running):
    db.commands.enqueue(Command(stack_id="shop", type=CommandType.RECONCILE))
    engine, log = Engine(STARTING), Log()
    (seen, cut_short), took = timed(
        lambda: make(db, engine, log, yield_to_others=True, workers=4).wait(
            running, desired, check=within(8.0), wait=5.0, timeout=30.0
        )
    )
    assert seen == STARTING
    assert cut_short is not None and 1.0 <= cut_short <= took < 5.0


def test_another_stacks_command_ends_the_wait_only_when_every_worker_is_busy(
    db, desired, running, tmp_path
):
    record(db, tmp_path, "blog", "i:1", applied=True)
    db.commands.enqueue(Command(stack_id="blog", type=CommandType.RECONCILE))
    engine = Engine(STARTING)
    _, cut_short = make(db, engine, Log(), yield_to_others=True, workers=1).wait(
        running, desired, check=within(8.0), wait=5.0, timeout=30.0
    )
    assert cut_short is not None and cut_short < 5.0
    (_, cut_short), took = timed(
        lambda: make(db, engine, Log(), yield_to_others=True, workers=2).wait(
            running, desired, check=within(5.0), wait=2.0, timeout=30.0
        )
    )
    assert cut_short is None and took >= 2.0  # a free worker takes blog's command


def test_without_yielding_the_wait_lasts_whatever_waits(db, desired, running):
    db.commands.enqueue(Command(stack_id="shop", type=CommandType.RECONCILE))
    (_, cut_short), took = timed(
        lambda: make(db, Engine(STARTING), Log()).wait(
            running, desired, check=within(5.0), wait=1.5, timeout=30.0
        )
    )
    assert cut_short is None and took >= 1.5


def test_healthy_marks_the_version_and_says_a_recovery(db, running):
    db.stacks.update("shop", health_status=HealthStatus.DEGRADED)
    wait = make(db, Engine(HEALTHY), Log())
    wait.healthy(db.stacks.require("shop"), version=db.stack_versions.require("shop", "v1"))
    assert db.stack_versions.require("shop", "v1").healthy_at == NOW
    [event] = db.events.list(stack_id="shop").items
    assert (event.reason, event.level) == ("StackRecovered", LogLevel.INFO)
    assert event.message == "shop is Healthy again at v1 (was Degraded)"
    assert event.data == {"version": "v1", "before": "Degraded"}


def test_healthy_again_says_nothing_and_keeps_the_first_time(db, tmp_path):
    earlier = NOW - timedelta(hours=1)
    db.stack_versions.mark_healthy("shop", "v1", at=earlier)
    wait = make(db, Engine(HEALTHY), Log())
    wait.healthy(db.stacks.require("shop"), version=db.stack_versions.require("shop", "v1"))
    assert db.stack_versions.require("shop", "v1").healthy_at == earlier
    assert db.events.list(stack_id="shop").items == []
    # A version never applied before (the stack's first apply) recovers from nothing.
    record(db, tmp_path, "blog", "i:1", applied=False)
    db.stacks.update("blog", health_status=HealthStatus.MISSING)
    wait.healthy(db.stacks.require("blog"), version=db.stack_versions.require("blog", "v1"))
    assert db.stack_versions.require("blog", "v1").healthy_at == NOW
    assert db.events.list(stack_id="blog").items == []


def test_unhealthy_after_the_whole_wait_is_said_and_an_event_on_change(db, running):
    log = Log()
    wait = make(db, Engine(UNHEALTHY), log)
    for before in (HealthStatus.HEALTHY, HealthStatus.DEGRADED):  # a resync finds it again
        wait.unhealthy(
            running,
            before=before,
            health=HealthStatus.DEGRADED,
            why="shop-web-1 is unhealthy",
            cut_short=None,
            timeout=30.0,
            watch=None,
        )
    assert (
        log.lines
        == [
            (
                running.command_id,
                LogLevel.WARNING,
                "shop applied but Degraded after 30s: shop-web-1 is unhealthy",
            )
        ]
        * 2
    )
    [event] = db.events.list(stack_id="shop").items  # the change only
    assert (event.reason, event.level) == ("StackUnhealthy", LogLevel.WARNING)
    assert event.message == "shop is Degraded: shop-web-1 is unhealthy"
    assert db.commands.get_next_pending() is None  # no follow-up for a wait that ran out


def test_a_wait_cut_short_queues_one_follow_up_carrying_the_watch(db, running):
    log = Log()
    wait = make(db, Engine(STARTING), log)
    watch = Watch("v1", NOW - timedelta(seconds=12), wait=18.0, timeout=30.0)
    for _ in range(2):
        wait.unhealthy(
            running,
            before=HealthStatus.PROGRESSING,
            health=HealthStatus.PROGRESSING,
            why="shop-web-1 is starting",
            cut_short=2.0,
            timeout=30.0,
            watch=watch,
        )
    pending = db.commands.list(stack_id="shop", status="PENDING").items
    [follow_up] = pending  # coalesced: the second cut finds the first follow-up pending
    assert follow_up.type is CommandType.RECONCILE
    assert follow_up.payload == {
        "reason": "health follow-up",
        "watch": {"version": "v1", "since": (NOW - timedelta(seconds=12)).isoformat()},
    }
    assert follow_up.not_before == NOW + timedelta(seconds=5)
    assert log.lines[0] == (
        running.command_id,
        LogLevel.INFO,
        "shop applied, still Progressing after 2s (shop-web-1 is starting); other commands"
        f" wait for a worker, so the wait ends here; command {follow_up.command_id} looks again",
    )
    assert db.events.list(stack_id="shop").items == []  # no health change: no event


def test_a_follow_up_without_a_watch_carries_only_its_reason(db, running):
    make(db, Engine(STARTING), Log()).unhealthy(
        running,
        before=HealthStatus.HEALTHY,
        health=HealthStatus.MISSING,
        why="missing: shop-web-1",
        cut_short=1.0,
        timeout=30.0,
        watch=None,
    )
    follow_up = db.commands.get_next_pending()
    assert follow_up is None  # not due before follow_up_after
    [pending] = db.commands.list(stack_id="shop", status="PENDING").items
    assert pending.payload == {"reason": "health follow-up"}
    [event] = db.events.list(stack_id="shop").items
    assert event.message == "shop is Missing: missing: shop-web-1"
