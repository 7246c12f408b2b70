"""The planner sees every container of a (service, number) slot (issue 9, item 1).

A SIGKILL between creating a recreate's replacement and renaming it leaves two containers with
the same project/service/number labels. Keyed by number, the planner used to ignore one of them
and the next recreate collided with the leftover's name on every retry. Each row: what a kill
at one point of a recreate leaves behind, and the steps that converge from there.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from helpers.stacks import desired_stack
from test_planner_table import IMG, IMG_ID, running, snapshot, web

from controller.backends.docker.planner import StepKind, plan, replacement_name


def _steps(p):
    return [(s.kind.value, s.target, s.service, s.number) for s in p.changes]


def _stacks(tmp_path: Path):
    old = desired_stack(tmp_path / "a", "shop", {"services": {"web": web(environment={"A": "1"})}})
    new = desired_stack(tmp_path / "b", "shop", {"services": {"web": web(environment={"A": "2"})}})
    return old, new


def _replacement(stack, desired, *, old_id: str, state: str = "created"):
    base = running(stack, desired, "web", state=state)
    return replace(base, id="f" * 64, name=replacement_name("shop-web-1", old_id, "0a1b2c"))


def test_kill_after_creating_the_replacement_removes_it_then_recreates(tmp_path: Path):
    old, new = _stacks(tmp_path)
    current = replace(running("shop", old, "web"), id="a" * 64)
    leftover = _replacement("shop", new, old_id=current.id)
    p = plan(new, snapshot("shop", current, leftover))
    assert _steps(p) == [
        ("remove", leftover.name, "web", 1),
        ("recreate", "shop-web-1", "web", 1),
    ]
    assert "interrupted recreate" in p.changes[0].reason
    assert p.changes[0].container_id == leftover.id


def test_kill_after_removing_the_old_one_creates_the_slot_anew(tmp_path: Path):
    _, new = _stacks(tmp_path)
    leftover = _replacement("shop", new, old_id="c" * 64)
    p = plan(new, snapshot("shop", leftover))
    assert _steps(p) == [("remove", leftover.name, "web", 1), ("create", "shop-web-1", "web", 1)]


def test_kill_after_renaming_starts_the_replacement(tmp_path: Path):
    _, new = _stacks(tmp_path)
    renamed = running("shop", new, "web", state="created")
    p = plan(new, snapshot("shop", renamed))
    assert _steps(p) == [("start", "shop-web-1", "web", 1)]


def test_a_duplicate_in_a_slot_is_removed_and_the_named_one_kept(tmp_path: Path):
    _, new = _stacks(tmp_path)
    named = running("shop", new, "web")
    copy = replace(named, id="d" * 64, name="someone-copied-our-labels")
    p = plan(new, snapshot("shop", named, copy))
    assert _steps(p) == [("remove", "someone-copied-our-labels", "web", 1)]
    assert p.changes[0].reason == "duplicate container in slot 1"


def test_surplus_slot_with_two_containers_removes_both(tmp_path: Path):
    _, new = _stacks(tmp_path)
    one = running("shop", new, "web")
    two = replace(running("shop", new, "web", number=2), id="b" * 64)
    two_copy = replace(two, id="e" * 64, name=replacement_name("shop-web-2", two.id, "99"))
    p = plan(new, snapshot("shop", one, two, two_copy))
    assert sorted(_steps(p)) == sorted(
        [("remove", "shop-web-2", "web", 2), ("remove", two_copy.name, "web", 2)]
    )


def test_a_container_without_a_number_label_is_not_ignored(tmp_path: Path):
    _, new = _stacks(tmp_path)
    one = running("shop", new, "web")
    unnumbered = replace(one, id="9" * 64, name="shop-web-x", number=0)
    p = plan(new, snapshot("shop", one, unnumbered))
    assert _steps(p) == [("remove", "shop-web-x", "web", 0)]


def test_plan_stays_empty_for_one_container_per_slot(tmp_path: Path):
    _, new = _stacks(tmp_path)
    p = plan(new, snapshot("shop", running("shop", new, "web")))
    assert p.in_sync
    assert IMG and IMG_ID  # the shared fixtures' image is the one observed
    assert StepKind.REMOVE not in {s.kind for s in p.steps}
