"""The pull policies as refresh steps (pure): what the reconciler carries out first at every
apply, then plans again without. ``always`` pulls, ``build`` builds, and ``daily``, ``weekly``
and ``every_<duration>`` pull only when a tag last named the local image longer ago than that,
as of the ``now`` the caller gives (the planner reads no clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers.stacks import desired_stack

from controller.backends.docker.planner import plan, pull_period
from controller.backends.shared.steps import StepKind
from controller.models.observed import Snapshot

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
IMAGE = "127.0.0.1:5000/app:1"


def stack(tmp_path: Path, policy: str, **more):
    return desired_stack(tmp_path, "shop", {"services": {"web": {
        "image": IMAGE, "pull_policy": policy, **more}}})  # fmt: skip


def images(the_plan) -> list:
    """Its pulls and builds (the rest creates the stack, which nothing here runs)."""
    return [s for s in the_plan.steps if s.kind in (StepKind.PULL, StepKind.BUILD)]


def observed(*, tagged: datetime | None, present: bool = True) -> Snapshot:
    return Snapshot("shop", images={IMAGE: "sha256:aa" if present else None},
                    image_tagged={IMAGE: tagged})  # fmt: skip


@pytest.mark.parametrize(
    ("policy", "age", "pulls"),
    [
        ("daily", timedelta(hours=23), False),
        ("daily", timedelta(hours=25), True),
        ("weekly", timedelta(days=6), False),
        ("weekly", timedelta(days=8), True),
        ("every_12h", timedelta(hours=11), False),
        ("every_12h", timedelta(hours=13), True),
        ("every_1h30m", timedelta(minutes=100), True),
        ("missing", timedelta(days=400), False),
        ("always", timedelta(0), True),
    ],
)
def test_refresh_pulls_by_policy_and_age(tmp_path, policy, age, pulls):
    the_plan = plan(stack(tmp_path, policy), observed(tagged=NOW - age), pull_always=True,
                    now=NOW)  # fmt: skip
    refresh = the_plan.refresh_steps
    assert [s.kind for s in refresh] == ([StepKind.PULL] if pulls else [])
    # Without pull_always (diff, the resync's comparison) the same stack has nothing to do.
    quiet = plan(stack(tmp_path, policy), observed(tagged=NOW - age), now=NOW)
    assert quiet.refresh_steps == () and images(quiet) == []


def test_a_period_without_now_or_a_tag_time(tmp_path):
    desired = stack(tmp_path, "daily")
    assert images(plan(desired, observed(tagged=NOW - timedelta(days=9)), pull_always=True)) == []
    never_tagged = plan(desired, observed(tagged=None), pull_always=True, now=NOW)
    (step,) = never_tagged.refresh_steps
    assert step.reason == "pull_policy daily (web: never tagged here)"
    absent = plan(desired, observed(tagged=None, present=False), pull_always=True, now=NOW)
    assert [s.reason for s in images(absent)] == ["image for web is not present"]
    assert absent.refresh_steps == ()


def test_build_is_a_refresh_step_once_the_image_exists(tmp_path):
    (tmp_path / "manifests-shop").mkdir()
    (tmp_path / "manifests-shop" / "Dockerfile").write_text("FROM scratch\n")
    desired = stack(tmp_path, "build", build={"context": "."})
    present = plan(desired, observed(tagged=NOW), pull_always=True, now=NOW)
    assert [(s.kind, s.reason) for s in present.refresh_steps] == [
        (StepKind.BUILD, "pull_policy build (web)")
    ]
    assert images(plan(desired, observed(tagged=NOW), now=NOW)) == []  # the re-plan: nothing
    absent = plan(desired, observed(tagged=None, present=False), pull_always=True, now=NOW)
    assert [s.reason for s in images(absent)] == ["build web: the image is not built yet"]
    assert absent.refresh_steps == ()


def test_periods():
    assert pull_period("daily") == timedelta(days=1)
    assert pull_period("weekly") == timedelta(days=7)
    assert pull_period("every_90s") == timedelta(seconds=90)
    assert pull_period("always") is None and pull_period("missing") is None
