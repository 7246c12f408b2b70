"""``decide_rollback`` as a table: each row the facts about the version in trouble, the stack,
and the expected action, target and a piece of the reason."""

from __future__ import annotations

from dataclasses import replace

import pytest

from controller.delivery.rollbacks.decision import (
    AUTO_ROLLBACK_BY,
    MANUAL_ROLLBACK_BY,
    Action,
    VersionFacts,
    decide_rollback,
    rolled_back_message,
)

NEW = VersionFacts(
    version="v7", on_failure=True, healthy_before=False, created_by="stackctl", decided=False
)
AUTO = VersionFacts(
    version="v8",
    on_failure=False,  # a copy of v6, which did not ask for it: its failure is reported anyway
    healthy_before=False,
    created_by=AUTO_ROLLBACK_BY,
    decided=False,
    rolled_back_from="v7",
    rolled_back_to="v6",
)
TROUBLE = "web-1 is unhealthy after 3 s"

# A table reads better one row a line.
# fmt: off
ROWS = [
    # (name, facts, current, suspended, last healthy, action, target, in the reason)
    ("new version, healthy one before", NEW, "v7", False, "v6", Action.ROLL_BACK, "v6", TROUBLE),
    ("rollback off", replace(NEW, on_failure=False), "v7", False, "v6", Action.NOTHING, None,
     "does not ask"),
    ("a newer version is desired", NEW, "v9", False, "v6", Action.NOTHING, None,
     "no longer the desired version"),
    ("suspended", NEW, "v7", True, "v6", Action.NOTHING, None, "suspended"),
    ("decided before: no second event, no loop", replace(NEW, decided=True), "v7", False, "v6",
     Action.NOTHING, None, "already decided"),
    ("healthy once: not a bad version", replace(NEW, healthy_before=True), "v7", False, "v6",
     Action.NOTHING, None, "healthy before"),
    ("an operator's rollback is not undone", replace(NEW, created_by=MANUAL_ROLLBACK_BY), "v7",
     False, "v6", Action.NOTHING, None, "stackctl rollback"),
    ("no healthy version before", NEW, "v7", False, None, Action.REPORT_FAILURE, None,
     "no version before v7 was ever healthy"),
    ("the automatic rollback's version fails", AUTO, "v8", False, "v6", Action.REPORT_FAILURE,
     None, "rollback from v7 to v6 (as v8) failed: " + TROUBLE),
    ("... even when it asks for rollbacks itself", replace(AUTO, on_failure=True), "v8", False,
     "v6", Action.REPORT_FAILURE, None, "no further automatic rollback"),
    ("... reported once", replace(AUTO, decided=True), "v8", False, "v6", Action.NOTHING, None,
     "already reported"),
]
# fmt: on
# fmt: on


@pytest.mark.parametrize(
    ("facts", "current", "suspended", "last", "action", "target", "why"),
    [row[1:] for row in ROWS],
    ids=[row[0] for row in ROWS],
)
def test_decision(facts, current, suspended, last, action, target, why):
    decision = decide_rollback(
        failed=facts,
        trouble=TROUBLE,
        current_version=current,
        suspended=suspended,
        last_healthy=last,
    )
    assert (decision.action, decision.target) == (action, target)
    assert why in decision.why


def test_the_message_people_read():
    assert rolled_back_message(
        from_version="v7", to_version="v6", why="web unhealthy after 120 s"
    ) == ("rolled back from v7 to v6: web unhealthy after 120 s")
