"""``RollbackWatch`` on a database alone (its clock moved by the test): which versions are
watched, where a watch's timeout starts (now, or the start a health follow-up carries), and what
``judge_health`` / ``judge_failure`` carry out: a rollback to the newest healthy version (a new
pinned version, its APPLY queued), a ``RollbackFailed`` report, or nothing, said in the
command's log; one decision per version, and never an exception into the worker."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers.stacks import desired_stack

from controller.db import Database
from controller.delivery.rollbacks import watch as watch_module
from controller.delivery.rollbacks.decision import AUTO_ROLLBACK_BY
from controller.delivery.rollbacks.watch import RollbackWatch, Watch
from controller.desired import DesiredStack
from controller.models import (
    Command,
    CommandType,
    HealthStatus,
    LogLevel,
    StackVersion,
    SyncStatus,
    VersionStatus,
)
from controller.models.errors import StackctlError
from controller.sources.versions import load_desired, record_version

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[LogLevel, str]] = []

    def __call__(self, command: Command, level: LogLevel, message: str) -> None:
        self.lines.append((level, message))


class Shop:
    """The stack ``shop`` in a database, its versions recorded as the watcher records them."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.clock = Clock()
        self.db = Database(db_path=tmp / "s.db", clock=self.clock)
        self.log = Log()
        self.watch = RollbackWatch(self.db, root=tmp, log=self.log)

    def record(self, image: str, *, on_failure: bool = True, healthy: bool = False) -> str:
        spec = {"rollback": {"onFailure": True}} if on_failure else {}
        desired = desired_stack(
            self.tmp / image.replace(":", "_"),
            "shop",
            {"services": {"web": {"image": image}}},
            **spec,
        )
        version = record_version(self.db, desired, root=self.tmp)
        assert version is not None and version.version is not None
        if healthy:
            self.db.stack_versions.set_status("shop", version.version, VersionStatus.APPLIED)
            self.db.stack_versions.mark_healthy("shop", version.version, at=self.clock())
            self.db.stacks.update(
                "shop",
                applied_version=version.version,
                sync_status=SyncStatus.SYNCED,
                health_status=HealthStatus.HEALTHY,
            )
        return version.version

    def version(self, label: str) -> StackVersion:
        return self.db.stack_versions.require("shop", label)

    def desired(self, label: str) -> DesiredStack:
        return load_desired(self.db, self.version(label))

    def command(self, kind: CommandType = CommandType.APPLY_STACK_VERSION, **payload) -> Command:
        return self.db.commands.enqueue(Command(stack_id="shop", type=kind, payload=payload))

    def begin(self, label: str, command: Command, *, changed: bool = True) -> Watch | None:
        return self.watch.begin(
            command,
            version=self.version(label),
            desired=self.desired(label),
            changed=changed,
            timeout=30.0,
        )

    def judge(self, label: str, watch: Watch, *, health: HealthStatus, why: str) -> None:
        self.watch.judge_health(
            self.command(CommandType.RECONCILE),
            watch=watch,
            version=self.version(label),
            desired=self.desired(label),
            health=health,
            why=why,
        )

    def events(self) -> list[tuple[str, dict]]:
        """(reason, data) of the stack's decisions, oldest first."""
        items = self.db.events.list(stack_id="shop", limit=100).items
        return [(e.reason, e.data or {}) for e in reversed(items)]


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    shop = Shop(tmp_path)
    yield shop
    shop.db.close()


def test_a_new_version_asking_for_on_failure_is_watched_from_now(shop: Shop):
    shop.record("i:1", healthy=True)
    shop.record("i:2")
    watch = shop.begin("v2", shop.command())
    assert watch == Watch("v2", START, 30.0, 30.0)
    assert watch.follow_up() == {"version": "v2", "since": START.isoformat()}


def test_a_follow_up_waits_only_what_is_left_of_the_timeout(shop: Shop):
    shop.record("i:1", healthy=True)
    shop.record("i:2")
    carried = {"version": "v2", "since": (START - timedelta(seconds=20)).isoformat()}
    follow_up = shop.command(CommandType.RECONCILE, watch=carried)
    assert shop.begin("v2", follow_up, changed=False) == Watch(
        "v2", START - timedelta(seconds=20), 10.0, 30.0
    )
    shop.clock.advance(25)  # the follow-up ran late: the deadline is past, never moved on
    assert shop.begin("v2", follow_up, changed=False).wait == 0.0
    # A command that changed the stack starts the timeout again.
    assert shop.begin("v2", follow_up, changed=True).since == shop.clock()


@pytest.mark.parametrize(
    "carried",
    [
        None,
        {"version": "v1", "since": START.isoformat()},  # another version's watch
        {"version": "v2", "since": "yesterday"},
        {"version": "v2", "since": (START + timedelta(hours=1)).isoformat()},  # in the future
        "v2",
    ],
)
def test_a_look_without_a_usable_start_starts_the_timeout_now(shop: Shop, carried):
    shop.record("i:1", healthy=True)
    shop.record("i:2")
    payload = {} if carried is None else {"watch": carried}
    look = shop.command(CommandType.RECONCILE, **payload)
    assert shop.begin("v2", look, changed=False) == Watch("v2", START, 30.0, 30.0)


def test_versions_not_watched(shop: Shop):
    shop.record("i:1", healthy=True, on_failure=True)  # healthy once
    assert shop.begin("v1", shop.command()) is None
    shop.record("i:2", on_failure=False)  # not asking for it
    assert shop.begin("v2", shop.command()) is None
    shop.record("i:3")
    shop.watch.judge_failure(shop.command(), RuntimeError("boom"))  # decided about
    assert shop.events()[-1][0] == "RolledBack"
    assert shop.begin("v3", shop.command()) is None


def test_an_unhealthy_version_rolls_back_to_the_newest_healthy_one(shop: Shop):
    shop.record("i:1", healthy=True)
    shop.record("i:2", healthy=True)
    shop.record("i:3")
    watch = shop.begin("v3", shop.command())
    assert watch is not None
    shop.clock.advance(12)
    shop.judge("v3", watch, health=HealthStatus.DEGRADED, why="shop-web-1 is unhealthy")
    [(reason, data)] = shop.events()
    assert reason == "RolledBack"
    assert (data["from"], data["to"], data["target"]) == ("v3", "v2", "v4")
    assert data["reason"] == "shop-web-1 is unhealthy after 12 s"
    stack = shop.db.stacks.require("shop")
    assert (stack.current_version, stack.pinned) == ("v4", True)
    assert shop.version("v4").digest == shop.version("v2").digest
    [queued] = shop.db.commands.list(stack_id="shop", type="APPLY_STACK_VERSION").items[:1]
    assert queued.payload == {"version": "v4", "rollback_to": "v2"}
    assert shop.log.lines == [
        (
            LogLevel.WARNING,
            "rolling back from v3 to v2: shop-web-1 is unhealthy after 12 s"
            f" (as v4, command {queued.command_id})",
        )
    ]
    # Looked at again (a resync), v3 is no longer desired: nothing more is done.
    shop.judge("v3", watch, health=HealthStatus.DEGRADED, why="shop-web-1 is unhealthy")
    assert len(shop.events()) == 1
    assert shop.log.lines[-1] == (
        LogLevel.INFO,
        "no automatic rollback: v3 is no longer the desired version",
    )


def test_a_version_not_healthy_in_time_says_so(shop: Shop):
    shop.record("i:1", healthy=True)
    shop.record("i:2")
    watch = shop.begin("v2", shop.command())
    assert watch is not None
    shop.clock.advance(31)
    shop.judge("v2", watch, health=HealthStatus.PROGRESSING, why="shop-web-1 is starting")
    [(reason, data)] = shop.events()
    assert (reason, data["reason"]) == (
        "RolledBack",
        "not healthy within 30 s (shop-web-1 is starting)",
    )


def test_a_failed_automatic_rollback_is_reported_and_never_rolled_back_again(shop: Shop):
    shop.record("i:1", healthy=True, on_failure=False)
    shop.record("i:2")
    shop.watch.judge_failure(shop.command(), RuntimeError("port in use"))
    assert shop.db.stacks.require("shop").current_version == "v3"
    assert not shop.desired("v3").rollback.on_failure  # a copy of v1's spec
    watch = shop.begin("v3", shop.command())  # the rollback's version is watched all the same
    assert watch is not None
    shop.clock.advance(5)
    shop.judge("v3", watch, health=HealthStatus.DEGRADED, why="shop-web-1 exited with code 1")
    assert [reason for reason, _ in shop.events()] == ["RolledBack", "RollbackFailed"]
    data = shop.events()[-1][1]
    assert (data["from"], data["to"], data["target"], data["version"]) == ("v2", "v1", "v3", "v3")
    why = "rollback from v2 to v1 (as v3) failed: shop-web-1 exited with code 1 after 5 s;"
    assert data["reason"] == f"{why} no further automatic rollback"
    assert shop.log.lines[-1][0] is LogLevel.ERROR
    assert shop.log.lines[-1][1].startswith(f"automatic rollback failed: {why}")
    stack = shop.db.stacks.require("shop")
    assert stack.current_version == "v3" and stack.last_error.startswith("automatic rollback:")
    assert shop.begin("v3", shop.command()) is None  # reported once: no longer watched
    shop.judge("v3", watch, health=HealthStatus.DEGRADED, why="again")
    assert len(shop.events()) == 2


def test_no_healthy_version_before_is_a_failure_report_and_nothing_else(shop: Shop):
    shop.record("i:1")
    shop.watch.judge_failure(shop.command(), RuntimeError("image not present"))
    [(reason, data)] = shop.events()
    assert reason == "RollbackFailed"
    assert (data["from"], data["to"], data["version"]) == ("v1", None, "v1")
    assert data["reason"] == (
        "cannot roll back from v1 (apply failed: image not present):"
        " no version before v1 was ever healthy"
    )
    assert shop.db.stacks.require("shop").current_version == "v1"
    applies = shop.db.commands.list(stack_id="shop", type="APPLY_STACK_VERSION").items
    assert len(applies) == 1  # the failed one: no rollback queued


def test_which_failures_are_judged(shop: Shop):
    shop.record("i:1", healthy=True)
    # A RECONCILE failing on the applied version: the engine's trouble, not the version's.
    shop.watch.judge_failure(shop.command(CommandType.RECONCILE), RuntimeError("engine gone"))
    assert shop.events() == [] and shop.log.lines == []
    shop.record("i:2", on_failure=False)  # not asking: nothing, said nowhere
    shop.watch.judge_failure(shop.command(), RuntimeError("boom"))
    assert shop.events() == [] and shop.log.lines == []
    shop.record("i:3")  # never applied: any failed command of it is judged
    shop.watch.judge_failure(shop.command(CommandType.RECONCILE), RuntimeError("boom"))
    assert [reason for reason, _ in shop.events()] == ["RolledBack"]


def test_an_apply_failing_on_the_applied_version_is_judged(shop: Shop):
    shop.record("i:1", healthy=True)
    shop.record("i:2")
    shop.db.stacks.update("shop", applied_version="v2", health_status=HealthStatus.DEGRADED)
    shop.watch.judge_failure(shop.command(), RuntimeError("boom"))  # an APPLY of v2 again
    assert [reason for reason, _ in shop.events()] == ["RolledBack"]


def test_the_target_is_the_newest_healthy_version_older_than_the_failing_one(shop: Shop):
    shop.record("i:1", healthy=True)
    shop.record("i:2", healthy=True)
    shop.record("i:3")
    shop.record("i:4", healthy=True)  # newer than v3, as a pinned stack's later version may be
    shop.db.stacks.update("shop", current_version="v3", applied_version="v2")
    shop.watch.judge_failure(shop.command(), RuntimeError("boom"))
    [(reason, data)] = shop.events()
    assert (reason, data["from"], data["to"]) == ("RolledBack", "v3", "v2")


def test_a_suspended_stack_is_not_rolled_back(shop: Shop):
    shop.record("i:1", healthy=True)
    shop.record("i:2")
    shop.db.stacks.update("shop", suspended=True)
    shop.watch.judge_failure(shop.command(), RuntimeError("boom"))
    assert shop.events() == []
    assert shop.log.lines == [(LogLevel.INFO, "no automatic rollback: the stack is suspended")]


def test_a_stack_or_version_that_is_gone_is_left_alone(shop: Shop):
    ghost = Command(command_id=99, stack_id="ghost", type=CommandType.APPLY_STACK_VERSION)
    shop.watch.judge_failure(ghost, RuntimeError("boom"))
    assert shop.log.lines == []


def test_an_unreadable_version_is_judged_on_its_metadata(shop: Shop, monkeypatch):
    shop.record("i:1", healthy=True)
    shop.record("i:2")
    shop.watch.judge_failure(shop.command(), RuntimeError("boom"))  # v3: the rollback's copy

    def unreadable(db: Database, version: StackVersion) -> DesiredStack:
        raise StackctlError(f"{version.version} does not match its digest")

    monkeypatch.setattr(watch_module, "load_desired", unreadable)
    assert shop.version("v3").metadata.created_by == AUTO_ROLLBACK_BY
    shop.watch.judge_failure(shop.command(), RuntimeError("boom"))
    assert [reason for reason, _ in shop.events()] == ["RolledBack", "RollbackFailed"]


@pytest.mark.parametrize("error", [StackctlError("v1 is gone"), RuntimeError("disk on fire")])
def test_a_rollback_that_cannot_be_recorded_is_reported_not_raised(
    shop: Shop, monkeypatch, error: Exception
):
    shop.record("i:1", healthy=True)
    shop.record("i:2")

    def broken(*args: object, **kwargs: object) -> Command:
        raise error

    monkeypatch.setattr(watch_module, "auto_rollback", broken)
    shop.watch.judge_failure(shop.command(), RuntimeError("boom"))
    [(reason, data)] = shop.events()
    assert reason == "RollbackFailed"
    assert data["reason"] == f"cannot roll back from v2 to v1: {error}"
    assert (data["from"], data["to"]) == ("v2", None)
    assert shop.log.lines == [
        (LogLevel.ERROR, f"automatic rollback failed: cannot roll back from v2 to v1: {error}")
    ]
