"""A pass that finds many new stacks records them ``BATCH`` per transaction (issue 27, goal 3:
10,000 manifests dropped at once paid one commit each), and still never leaves a version
without its APPLY: a pass failing in the middle of a batch keeps the batches committed before
it, each version with its APPLY, and nothing of its own batch; the next pass records the rest."""

from __future__ import annotations

import pytest

from controller.models import CommandStatus, CommandType
from controller.sources import effects
from controller.sources.watcher import Watcher


def manifest(name: str) -> str:
    return (
        f"apiVersion: stackctl/v1\nkind: Stack\nmetadata:\n  name: {name}\nspec:\n"
        "  compose:\n    services:\n      web:\n        image: img:1\n"
    )


def applies(db) -> dict[str, str]:
    """Stack -> the version its PENDING APPLY applies."""
    with db.reading() as conn:
        rows = conn.execute(
            "SELECT stack_id, payload FROM commands WHERE type = ? AND status = ?",
            (CommandType.APPLY_STACK_VERSION.value, CommandStatus.PENDING.value),
        ).fetchall()
    return {row[0]: row[1] for row in rows}


def test_many_new_stacks_are_recorded_a_batch_per_transaction(db, root, monkeypatch):
    monkeypatch.setattr(effects, "BATCH", 4)
    for n in range(10):
        (root / f"s{n}.yaml").write_text(manifest(f"s{n}"))
    woken: list[int] = []
    commits = 0
    real = db.transaction

    def counted():
        nonlocal commits
        if not db._conn.in_transaction:
            commits += 1
        return real()

    monkeypatch.setattr(db, "transaction", counted)
    report = Watcher(db, root, on_enqueue=lambda: woken.append(1)).sync()
    assert sorted(report.recorded) == sorted(f"s{n} v1" for n in range(10))
    assert commits == 3  # 4 + 4 + 2 stacks, each with its APPLY
    assert len(woken) == 3  # the workers start on a batch while the next is recorded
    assert set(applies(db)) == {f"s{n}" for n in range(10)}


def test_a_pass_failing_mid_batch_leaves_no_version_without_its_apply(db, root, monkeypatch):
    monkeypatch.setattr(effects, "BATCH", 4)
    for n in range(10):
        (root / f"s{n}.yaml").write_text(manifest(f"s{n}"))
    real = db.commands.enqueue
    calls = 0

    def dies_at_the_sixth(command):
        nonlocal calls
        calls += 1
        if calls == 6:
            raise RuntimeError("killed between a version and its APPLY")
        return real(command)

    monkeypatch.setattr(db.commands, "enqueue", dies_at_the_sixth)
    watcher = Watcher(db, root)
    with pytest.raises(RuntimeError):
        watcher.sync()
    heads = db.stack_versions.heads()
    assert len(heads) == 4  # the first batch, committed; nothing of the second
    assert set(applies(db)) == set(heads)
    monkeypatch.setattr(db.commands, "enqueue", real)
    assert len(watcher.sync().recorded) == 6
    assert set(applies(db)) == set(db.stack_versions.heads()) == {f"s{n}" for n in range(10)}
