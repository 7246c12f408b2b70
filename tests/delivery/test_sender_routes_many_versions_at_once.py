"""The sender routes the messages of many new versions at once (issue 27, goal 3: 10,000
manifests dropped together): a round's messages in one transaction, and each version's
``notify`` targets read from its stored settings, as the stack would read them back, without
rebuilding the whole stack for each version."""

from __future__ import annotations

from pathlib import Path

from controller.db import Database
from controller.delivery.notifications.sender import Sender
from controller.desired.reach import Reach
from controller.sources.versions import load_desired
from controller.sources.watcher import Watcher


def manifest(name: str, notify: str | None) -> str:
    said = f"  notify: [{{url: '{notify}', events: [version]}}]\n" if notify else ""
    return (
        f"apiVersion: stackctl/v1\nkind: Stack\nmetadata: {{name: {name}}}\nspec:\n{said}"
        "  compose: {services: {web: {image: 'busybox:1'}}}\n"
    )


def test_a_round_routes_every_new_version_once_in_one_transaction(db: Database, root: Path):
    for n in range(5):
        (root / f"s{n}.yaml").write_text(
            manifest(f"s{n}", "json://127.0.0.1:9/hook" if n % 2 else None)
        )
    Watcher(db, root, reach=Reach(notify_allow=("*",))).sync()
    sender = Sender(db, destinations=())
    for n in range(5):  # read from the settings, as the stack reads them back
        latest = db.stack_versions.latest(f"s{n}")
        assert sender._stack_targets(f"s{n}", "v1") == load_desired(db, latest).notify
    commits = 0
    real = db.transaction

    def counted():
        nonlocal commits
        if not db._conn.in_transaction:
            commits += 1
        return real()

    db.transaction = counted  # type: ignore[method-assign]
    sender._route_new()
    assert commits == 1
    assert db.outbox.unrouted(limit=100) == []
    with db.reading() as conn:
        routed = conn.execute(
            "SELECT o.stack_id FROM deliveries d JOIN outbox o USING (message_id)"
        ).fetchall()
    assert sorted(row[0] for row in routed) == ["s1", "s3"]


def test_a_version_that_is_not_there_has_no_targets(db: Database):
    assert Sender(db, destinations=())._stack_targets("ghost", "v1") == ()
