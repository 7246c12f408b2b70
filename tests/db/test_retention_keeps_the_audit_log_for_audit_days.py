"""Retention deletes an audit log entry once it is older than ``audit_days`` (365 by default),
in small transactions, and never otherwise: not by the commands' or events' shorter ages. A
policy that would empty the log (under a day) is refused, by the policy and by the setting."""

from __future__ import annotations

import pytest

from controller.config.settings import load_settings
from controller.db import Database, RetentionPolicy
from controller.models.audit import AuditEntry, AuditResult, Surface

DAY = 86_400.0


def entry(action: str) -> AuditEntry:
    return AuditEntry(
        who="alice", who_kind="user", surface=Surface.API, action=action, result=AuditResult.OK
    )


def actions(db: Database) -> list[str]:
    return [e.action for e in reversed(db.audit.list(limit=1000).items)]


def test_entries_go_after_audit_days_and_not_before(db: Database, clock):
    for n in range(5):
        db.audit.record(entry(f"old {n}"))
    clock.advance(100 * DAY)
    db.audit.record(entry("kept"))
    clock.advance(266 * DAY)  # the old ones: 366 days; "kept": 266 days (past every other age)
    result = db.retention.compact(RetentionPolicy(keep_days=7, event_days=30), batch=2)
    assert result.audit_entries == 5 and result.transactions == 3
    assert actions(db) == ["kept"]
    assert db.retention.compact(RetentionPolicy()).audit_entries == 0
    clock.advance(100 * DAY)
    assert db.retention.compact(RetentionPolicy()).audit_entries == 1
    assert actions(db) == []


def test_a_shorter_age_is_the_operators_choice(db: Database, clock):
    db.audit.record(entry("a month ago"))
    clock.advance(31 * DAY)
    db.audit.record(entry("now"))
    assert db.retention.compact(RetentionPolicy(audit_days=30)).audit_entries == 1
    assert actions(db) == ["now"]


def test_a_stopped_compaction_leaves_the_rest_for_the_next(db: Database, clock):
    for n in range(4):
        db.audit.record(entry(f"old {n}"))
    clock.advance(400 * DAY)
    asked = iter([False, False, False, True])  # asked before each transaction (one a row)
    result = db.retention.compact(RetentionPolicy(), batch=1, stop=lambda: next(asked, True))
    assert result.stopped and result.audit_entries == 3
    assert db.retention.compact(RetentionPolicy()).audit_entries == 1


@pytest.mark.parametrize("days", [0, 0.5, -1])
def test_an_age_that_would_empty_the_log_is_refused(days):
    with pytest.raises(ValueError, match="audit_days must be at least 1"):
        RetentionPolicy(audit_days=days)


def test_the_setting_defaults_to_a_year_and_is_read_from_the_environment():
    assert load_settings({}, environ={"HOME": "/h"}).audit_days == RetentionPolicy().audit_days
    assert RetentionPolicy().audit_days == 365
    environ = {"HOME": "/h", "STACKCTL_AUDIT_DAYS": "90"}
    assert load_settings({}, environ=environ).audit_days == 90
