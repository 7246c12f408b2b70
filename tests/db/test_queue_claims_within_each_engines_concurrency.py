"""The claim's per-engine limits (issue 16: per-engine concurrency in the claim): at most an
engine's ``concurrency`` commands RUNNING on it, a full engine's commands skipped rather than
blocking the others', with every rule of the plain claim kept (FIFO, one RUNNING per stack,
the overall limit). A command's engine is its stack's desired version's target."""

from __future__ import annotations

from collections import Counter

from controller.db import Database
from controller.models import Command, CommandStatus, CommandType, Stack
from controller.models.stack_version import ComposeDefinition, StackVersion

LIMITS = {"one": 1, "two": 2}  # engine -> most RUNNING on it


def stack_on(db: Database, stack_id: str, engine: str | None) -> None:
    """A stack whose desired version targets ``engine`` (``None``: no target, so ``local``)."""
    db.stacks.create(Stack(stack_id=stack_id, name=stack_id))
    settings = {} if engine is None else {"x-stackctl": {"target": {"engine": engine}}}
    compose = ComposeDefinition.model_validate({"services": {}, **settings})
    db.stack_versions.create(StackVersion(stack_id=stack_id, compose=compose))


def enqueue(db: Database, stack_id: str, type: CommandType = CommandType.RECONCILE) -> Command:
    return db.commands.enqueue(Command(stack_id=stack_id, type=type, created_at=db.clock()))


def running_per_engine(db: Database) -> Counter[str]:
    engines = db.stack_versions.engines()
    running = db.commands.list(status=CommandStatus.RUNNING, limit=1000).items
    return Counter(engines.get(c.stack_id, "local") for c in running)


def test_a_batch_never_exceeds_an_engines_limit(db: Database):
    for n in range(4):
        stack_on(db, f"one-{n}", "one")
        stack_on(db, f"two-{n}", "two")
        enqueue(db, f"one-{n}")
        enqueue(db, f"two-{n}")
    batch = db.commands.claim_batch(worker_id="w", limit=50, batch=50, engine_limits=LIMITS)
    assert running_per_engine(db) == {"one": 1, "two": 2}
    assert [c.stack_id for c in batch] == ["one-0", "two-0", "two-1"]
    # Full engines: another worker's claim, batch or single, takes nothing more.
    assert db.commands.claim_batch(worker_id="w2", limit=50, batch=50, engine_limits=LIMITS) == []
    assert db.commands.claim(worker_id="w2", limit=50, engine_limits=LIMITS) is None


def test_a_full_engine_does_not_block_a_later_command_of_another(db: Database):
    stack_on(db, "slow-a", "one")
    stack_on(db, "slow-b", "one")
    stack_on(db, "fast", "two")
    first = enqueue(db, "slow-a")
    enqueue(db, "slow-b")  # older than fast's, but its engine is full once slow-a runs
    fast = enqueue(db, "fast")
    taken = db.commands.claim(worker_id="w1", limit=10, engine_limits=LIMITS)
    assert taken is not None and taken.command_id == first.command_id
    taken = db.commands.claim(worker_id="w2", limit=10, engine_limits=LIMITS)
    assert taken is not None and taken.command_id == fast.command_id
    # In one batch too: slow-b is skipped, not a wall.
    stack_on(db, "fast-2", "two")
    later = enqueue(db, "fast-2")
    db.commands.complete(fast.command_id, worker_id="w2")  # type: ignore[arg-type]
    batch = db.commands.claim_batch(worker_id="w3", limit=10, batch=1, engine_limits=LIMITS)
    assert [c.command_id for c in batch] == [later.command_id]


def test_a_finished_command_makes_room_on_its_engine(db: Database):
    stack_on(db, "a", "one")
    stack_on(db, "b", "one")
    first, second = enqueue(db, "a"), enqueue(db, "b")
    _, claimed = db.commands.complete_and_claim(
        [], worker_id="w", limit=10, batch=5, engine_limits=LIMITS
    )
    assert [c.command_id for c in claimed] == [first.command_id]
    _, claimed = db.commands.complete_and_claim(
        [first.command_id],  # type: ignore[list-item]
        worker_id="w",
        limit=10,
        batch=5,
        engine_limits=LIMITS,
    )
    assert [c.command_id for c in claimed] == [second.command_id]


def test_fifo_within_an_engine(db: Database):
    for name in "cab":
        stack_on(db, name, "one")
    stack_on(db, "x", "two")
    queued = [enqueue(db, name) for name in "cab"]
    other = enqueue(db, "x")
    batch = db.commands.claim_batch(worker_id="w", limit=10, batch=10, engine_limits=LIMITS)
    assert [c.command_id for c in batch] == [queued[0].command_id, other.command_id]
    order = [batch[0].command_id]
    for _ in queued[1:]:
        _, claimed = db.commands.complete_and_claim(
            order[-1:],  # type: ignore[arg-type]
            worker_id="w",
            limit=10,
            batch=10,
            engine_limits=LIMITS,
        )
        order += [c.command_id for c in claimed]
    assert order == [c.command_id for c in queued]  # one at a time, in the order they came


def test_one_running_command_per_stack_still(db: Database):
    for name in "abc":
        stack_on(db, name, "two")
    first = enqueue(db, "a")
    enqueue(db, "a")  # a second RECONCILE supersedes nothing: two PENDING for one stack
    b = enqueue(db, "b")
    enqueue(db, "c")
    batch = db.commands.claim_batch(worker_id="w", limit=10, batch=10, engine_limits=LIMITS)
    # Engine two's 2 are a's first and b's: a's second waits for its stack, c for the engine.
    assert [c.command_id for c in batch] == [first.command_id, b.command_id]


def test_the_overall_limit_still_holds(db: Database):
    for n in range(3):
        stack_on(db, f"u-{n}", "unlimited")  # not in the map: only the overall limit
        stack_on(db, f"t-{n}", "two")
        enqueue(db, f"u-{n}")
        enqueue(db, f"t-{n}")
    batch = db.commands.claim_batch(worker_id="w", limit=3, batch=10, engine_limits=LIMITS)
    assert [c.stack_id for c in batch] == ["u-0", "t-0", "u-1"]
    batch = db.commands.claim_batch(worker_id="w", limit=10, batch=10, engine_limits=LIMITS)
    assert running_per_engine(db) == {"unlimited": 3, "two": 2}


def test_a_stack_without_a_desired_version_counts_for_local(db: Database):
    db.stacks.create(Stack(stack_id="bare", name="bare"))  # no version at all
    stack_on(db, "plain", None)  # a version without a target: local as well
    stack_on(db, "elsewhere", "two")
    bare, plain = enqueue(db, "bare", CommandType.DELETE_STACK), enqueue(db, "plain")
    other = enqueue(db, "elsewhere")
    limits = {**LIMITS, "local": 1}
    batch = db.commands.claim_batch(worker_id="w", limit=10, batch=10, engine_limits=limits)
    assert [c.command_id for c in batch] == [bare.command_id, other.command_id]
    db.commands.complete(bare.command_id, worker_id="w")  # type: ignore[arg-type]
    taken = db.commands.claim(worker_id="w", limit=10, engine_limits=limits)
    assert taken is not None and taken.command_id == plain.command_id


def test_a_delete_after_the_manifest_went_counts_for_the_applied_versions_engine(db: Database):
    stack_on(db, "gone", "one")
    stack_on(db, "busy", "one")
    db.stacks.update("gone", applied_version="v1", current_version=None)
    busy = enqueue(db, "busy")
    delete = enqueue(db, "gone", CommandType.DELETE_STACK)
    taken = db.commands.claim(worker_id="w", limit=10, engine_limits=LIMITS)
    assert taken is not None and taken.command_id == busy.command_id
    # Engine one is full (busy runs there): the delete of gone, whose containers are on one,
    # waits (counted for local, it would run).
    assert db.commands.claim(worker_id="w", limit=10, engine_limits=LIMITS) is None
    db.commands.complete(busy.command_id, worker_id="w")  # type: ignore[arg-type]
    taken = db.commands.claim(worker_id="w", limit=10, engine_limits=LIMITS)
    assert taken is not None and taken.command_id == delete.command_id
