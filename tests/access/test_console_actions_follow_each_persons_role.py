"""People signed in hold the roles the access policy binds to their user name and groups, on
the stacks its selectors reach: alice (group ops: operator on team=shop) rolls back shop and is
refused a sync of billing, both recorded in the audit log under her name; bob (no binding) sees
a page saying he has no access and nothing else; a viewer may press no button. Every console
action is walked with each person."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.teams import PROVIDER, person_cookie, record_labelled, write_policy, write_routes

from controller.commands import operations
from controller.db import Database
from controller.models.audit import AuditResult

HX = {"hx-request": "true"}
ALICE = ("alice", ("ops",))
BOB = ("bob", ())
DAVE = ("dave", ("dev",))  # viewer of every stack
CAROL = ("carol", ("admins",))


@pytest.fixture
def teams(db: Database, tmp_path: Path, make_console: Callable[..., Any]) -> Callable[..., Any]:
    record_labelled(db, tmp_path, "shop", {"team": "shop"}, image="stackctl-test/busybox:1")
    record_labelled(db, tmp_path, "shop", {"team": "shop"}, image="stackctl-test/busybox:2")
    record_labelled(db, tmp_path, "billing", {"team": "billing"}, image="stackctl-test/busybox:1")
    policy = write_policy(tmp_path)

    def client_for(person: tuple[str, tuple[str, ...]]) -> Any:
        client = make_console(token="admin-t0ken", access_policy=policy)
        client.app.state.oidc_digest = PROVIDER
        client.cookies.update(person_cookie(db, *person))
        return client

    return client_for


def test_an_operator_on_shop_rolls_back_shop_and_cannot_sync_billing(teams, db: Database):
    alice = teams(ALICE)
    rolled = alice.post("/ui/stacks/shop/rollback", data={"version": "v1"}, headers=HX)
    assert rolled.status_code == 202, rolled.text
    refused = alice.post("/ui/stacks/billing/sync", headers=HX)
    assert refused.status_code == 403
    assert "alice may not sync stack &#39;billing&#39;" in refused.text
    entries = db.audit.list().items
    assert [(e.who, e.action, e.stack_id, e.result, e.surface.value) for e in entries] == [
        ("alice", "sync", "billing", AuditResult.DENIED, "console"),
        ("alice", "rollback", "shop", AuditResult.OK, "console"),
    ]
    assert entries[1].command_id is not None and entries[1].version == "v3"


def test_a_person_sees_only_the_stacks_their_grants_reach(teams):
    alice = teams(ALICE)
    table = alice.get("/").text
    assert "/stacks/shop" in table and "/stacks/billing" not in table
    assert alice.get("/stacks/billing").status_code == 403
    assert alice.get("/stacks/shop").status_code == 200


def test_a_person_no_binding_names_sees_that_and_nothing_else(teams):
    bob = teams(BOB)
    for page in ("/", "/stacks/shop", "/audit"):
        answer = bob.get(page)
        assert answer.status_code == 403, page
        assert "No access" in answer.text and "shop" not in answer.text.split("<main>")[1]
    assert bob.post("/ui/stacks/shop/sync", headers=HX).status_code == 403


def test_the_audit_page_lists_a_rollback_under_its_author(teams):
    alice = teams(ALICE)
    assert (
        alice.post("/ui/stacks/shop/rollback", data={"version": "v1"}, headers=HX).status_code
        == 202
    )
    carol = teams(CAROL)
    page = carol.get("/audit").text
    assert "alice" in page and "rollback" in page and ">shop<" in page


def test_an_edited_policy_applies_at_once(teams, tmp_path: Path):
    bob = teams(BOB)
    assert bob.get("/stacks/shop").status_code == 403
    policy = yaml.safe_load((tmp_path / "access.yaml").read_text())
    policy["bindings"].append({"users": ["bob"], "role": "viewer", "stacks": {"names": ["sh*"]}})
    (tmp_path / "access.yaml").write_text(yaml.safe_dump(policy) + "\n# edited\n")
    assert bob.get("/stacks/shop").status_code == 200
    assert bob.get("/stacks/billing").status_code == 403


ACTIONS = [
    ("sync", "/ui/stacks/{stack}/sync", {}),
    ("suspend", "/ui/stacks/{stack}/suspend", {}),
    ("resume", "/ui/stacks/{stack}/resume", {}),
    ("rollback", "/ui/stacks/{stack}/rollback", {"version": "v1"}),
    ("move", "/ui/stacks/{stack}/move", {}),
]


def test_the_walk_covers_every_console_action(make_console):
    client = make_console()
    posted = write_routes(client.app, "/ui/")
    walked = {url.replace("{stack}", "{name}") for _, url, _ in ACTIONS}
    assert posted - walked == {
        "/ui/commands/{command_id}/cancel",  # walked below
        "/ui/session",  # entering the token: no stack
        "/ui/session/forget",
        "/ui/logout",  # signing out (OpenID Connect): no stack
    }


@pytest.mark.parametrize(
    ("person", "allowed"),
    [
        (ALICE, {"shop"}),
        (DAVE, set()),
        (BOB, set()),
        (CAROL, {"shop", "billing"}),
    ],
)
@pytest.mark.parametrize(("action", "url", "form"), ACTIONS)
def test_every_console_action_checks_the_role_on_the_stack(
    teams, person, allowed, action, url, form
):
    client = teams(person)
    for stack in ("shop", "billing"):
        answer = client.post(url.format(stack=stack), data=form, headers=HX)
        if stack in allowed:
            assert answer.status_code != 403, (action, stack, answer.text)
        else:
            assert answer.status_code == 403, (action, stack, answer.text)
            assert f"may not {action}" in answer.text


@pytest.mark.parametrize(("person", "allowed"), [(ALICE, True), (DAVE, False), (BOB, False)])
def test_cancel_checks_the_role_on_the_commands_stack(teams, db: Database, person, allowed):
    command = operations.sync(db, "shop")
    answer = teams(person).post(f"/ui/commands/{command.command_id}/cancel", headers=HX)
    assert (answer.status_code != 403) is allowed, answer.text
