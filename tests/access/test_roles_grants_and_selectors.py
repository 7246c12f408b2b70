"""Roles include the ones below them, grants reach the stacks their selector matches, a person
holds the grants of the bindings naming them or their groups, and nothing else (deny by
default)."""

from __future__ import annotations

import pytest

from controller.models.access import (
    NEEDS,
    AccessPolicy,
    Action,
    Binding,
    Grant,
    Principal,
    PrincipalKind,
    Role,
    SelectorError,
    StackSelector,
)

SHOP = StackSelector.parse("team=shop")


def test_admin_includes_operator_includes_viewer():
    assert Role.ADMIN.includes(Role.OPERATOR) and Role.OPERATOR.includes(Role.VIEWER)
    assert not Role.VIEWER.includes(Role.OPERATOR)
    assert not Role.OPERATOR.includes(Role.ADMIN)


def test_every_action_needs_a_role():
    assert set(NEEDS) == set(Action)
    assert NEEDS[Action.ROLLBACK] is Role.OPERATOR
    assert NEEDS[Action.APPLY] is Role.ADMIN and NEEDS[Action.TOKENS] is Role.ADMIN


@pytest.mark.parametrize(
    ("text", "names", "labels"),
    [
        ("team=shop", (), (("team", "shop"),)),
        ("shop*,billing", ("shop*", "billing"), ()),
        ("shop*, tier = web", ("shop*",), (("tier", "web"),)),
    ],
)
def test_a_selector_reads_names_and_labels(text, names, labels):
    selector = StackSelector.parse(text)
    assert (selector.names, selector.labels) == (names, labels)
    assert StackSelector.parse(str(selector)) == selector


@pytest.mark.parametrize("text", ["", "shop,,x", "=shop"])
def test_a_bad_selector_says_what_is_wrong(text):
    with pytest.raises(SelectorError, match="stack selector"):
        StackSelector.parse(text)


def test_a_selector_matches_a_pattern_and_every_label():
    both = StackSelector.parse("shop*,team=shop")
    assert both.matches("shop-web", {"team": "shop", "tier": "web"})
    assert not both.matches("shop-web", {"team": "billing"})
    assert not both.matches("billing", {"team": "shop"})
    assert not StackSelector().matches("anything", {})


def test_an_operator_on_shop_rolls_back_shop_and_nothing_else():
    alice = Principal("alice", PrincipalKind.USER, grants=(Grant(Role.OPERATOR, SHOP),))
    assert alice.may(Action.ROLLBACK, "shop", {"team": "shop"})
    assert alice.may(Action.READ, "shop", {"team": "shop"})
    assert not alice.may(Action.SYNC, "billing", {"team": "billing"})
    assert not alice.may(Action.READ, "billing", {})
    assert not alice.may(Action.APPLY, "shop", {"team": "shop"})
    assert not alice.may(Action.AUDIT_ALL)  # what belongs to no stack: only every-stack grants
    assert alice.may_somewhere(Action.ROLLBACK) and not alice.may_somewhere(Action.TOKENS)


def test_nobody_without_a_grant_may_do_anything():
    nobody = Principal("bob", PrincipalKind.USER)
    assert not nobody.bound
    assert not any(nobody.may(action, "shop", {}) for action in Action)


def test_a_policy_grants_what_names_a_person_or_their_groups():
    policy = AccessPolicy(
        bindings=(
            Binding(Role.OPERATOR, groups=("ops",), stacks=SHOP),
            Binding(Role.ADMIN, users=("carol",)),
        )
    )
    assert policy.grants_for("alice", ("ops", "dev")) == (Grant(Role.OPERATOR, SHOP),)
    assert policy.grants_for("carol", ()) == (Grant(Role.ADMIN),)
    assert policy.grants_for("bob", ("dev",)) == ()
