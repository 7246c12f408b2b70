"""The console's buttons (``POST /ui/stacks/{name}/sync|suspend|resume|rollback`` and
``/ui/commands/{id}/cancel``) act only for whoever holds the API token: refused (403) when
no token is configured, 401 without the session, 403 for a cookie-only request without htmx's
``HX-Request`` header (a forged cross-site form); nothing is queued when refused. With the
session and the header (or a bearer header) the command is queued and the fragment names it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from controller.db import Database
from controller.models import Command, CommandStatus, CommandType

HX = {"HX-Request": "true"}


@pytest.fixture
def shop(db: Database, record_stack: Callable[..., str]) -> Command:
    """``shop`` with v1 and v2 applied (v2 current), and one pending command to cancel."""
    record_stack("shop", "stackctl-test/busybox:1")
    record_stack("shop", "stackctl-test/busybox:2")
    return db.commands.enqueue(Command(stack_id="shop", type=CommandType.RECONCILE))


def actions(pending: Command) -> list[tuple[str, dict[str, str]]]:
    return [
        ("/ui/stacks/shop/sync", {}),
        ("/ui/stacks/shop/suspend", {}),
        ("/ui/stacks/shop/resume", {}),
        ("/ui/stacks/shop/rollback", {"version": "v1"}),
        (f"/ui/commands/{pending.command_id}/cancel", {}),
    ]


def snapshot(db: Database) -> list[tuple[int, str]]:
    """Every command and its status: what a refused action must leave as it was."""
    return [(c.command_id, c.status.value) for c in db.commands.list(limit=100).items]


def state(db: Database) -> tuple[object, ...]:
    stack = db.stacks.require("shop")
    return (
        snapshot(db),
        stack.current_version,
        stack.suspended,
        stack.pinned,
        len(db.stack_versions.list("shop")),
    )


def test_no_configured_token_refuses_with_403(make_console, db, shop) -> None:
    client = make_console()
    before = state(db)
    for url, form in actions(shop):
        answer = client.post(url, data=form, headers=HX)
        assert answer.status_code == 403, url
        assert "no API token" in answer.text, url
        assert state(db) == before, url


def test_no_session_refuses_with_401(make_console, db, shop, console_token) -> None:
    for client in (
        make_console(token=console_token),
        make_console(token=console_token, open_reads=True),
    ):
        before = state(db)
        for url, form in actions(shop):
            answer = client.post(url, data=form, headers=HX)
            assert answer.status_code == 401, url
            assert "Refused" in answer.text, url
            assert state(db) == before, url


def test_a_wrong_bearer_is_refused_with_401(make_console, db, shop, console_token) -> None:
    client = make_console(token=console_token)
    before = state(db)
    for url, form in actions(shop):
        answer = client.post(url, data=form, headers={**HX, "Authorization": "Bearer nope"})
        assert answer.status_code == 401, url
    assert state(db) == before


def test_the_cookie_without_htmx_header_is_a_forgery(
    make_console, db, shop, console_token, sign_in
) -> None:
    client = make_console(token=console_token)
    sign_in(client, console_token)
    before = state(db)
    for url, form in actions(shop):
        answer = client.post(url, data=form)
        assert answer.status_code == 403, url
        assert "did not come from the console" in answer.text, url
        answer = client.post(url, data=form, headers={"HX-Request": "false"})
        assert answer.status_code == 403, url
        assert state(db) == before, url


def queued_id(text: str) -> int:
    found = re.search(r'href="/commands/(\d+)">command #(\d+)<', text)
    assert found, text
    assert found.group(1) == found.group(2)
    return int(found.group(1))


@pytest.mark.parametrize(
    ("action", "expected_type"),
    [
        ("sync", CommandType.RECONCILE),
        ("suspend", CommandType.RECONCILE),
        ("resume", CommandType.APPLY_STACK_VERSION),
    ],
)
def test_session_and_header_queue_the_command(
    make_console, db, shop, console_token, sign_in, action, expected_type
) -> None:
    db.commands.request_cancel(shop.command_id, reason="test: no pending command for sync")
    client = make_console(token=console_token)
    sign_in(client, console_token)
    answer = client.post(f"/ui/stacks/shop/{action}", headers=HX)
    assert answer.status_code == 202, answer.text
    command = db.commands.require(queued_id(answer.text))
    assert command.stack_id == "shop"
    assert command.type == expected_type
    assert command.status is CommandStatus.PENDING
    assert f"/ui/commands/{command.command_id}/stream" in answer.text
    if action == "suspend":
        assert db.stacks.require("shop").suspended


def test_a_bearer_header_works_instead_of_the_cookie(make_console, db, shop, console_token) -> None:
    client = make_console(token=console_token)
    answer = client.post(
        "/ui/stacks/shop/suspend", headers={"Authorization": f"Bearer {console_token}"}
    )
    assert answer.status_code == 202, answer.text
    assert db.commands.require(queued_id(answer.text)).stack_id == "shop"
    assert db.stacks.require("shop").suspended


def test_rollback_records_a_new_version_and_pins(
    make_console, db, shop, console_token, sign_in
) -> None:
    client = make_console(token=console_token)
    sign_in(client, console_token)
    answer = client.post("/ui/stacks/shop/rollback", data={"version": "v1"}, headers=HX)
    assert answer.status_code == 202, answer.text
    assert "Rollback to v1" in answer.text
    command = db.commands.require(queued_id(answer.text))
    assert command.type == CommandType.APPLY_STACK_VERSION
    assert command.payload["version"] == "v3"
    assert command.payload["rollback_to"] == "v1"
    stack = db.stacks.require("shop")
    assert stack.current_version == "v3"
    assert stack.pinned
    versions = db.stack_versions.list("shop")
    assert [v.version for v in versions] == ["v1", "v2", "v3"]
    assert versions[2].compose == versions[0].compose


def test_rollback_of_a_suspended_stack_is_409_with_the_reason(
    make_console, db, shop, console_token, sign_in
) -> None:
    db.stacks.update("shop", suspended=True)
    client = make_console(token=console_token)
    sign_in(client, console_token)
    before = state(db)
    answer = client.post("/ui/stacks/shop/rollback", data={"version": "v1"}, headers=HX)
    assert answer.status_code == 409
    assert "suspended" in answer.text
    assert "stackctl resume shop" in answer.text
    assert state(db) == before


def test_unknown_stack_is_404(make_console, db, shop, console_token, sign_in) -> None:
    client = make_console(token=console_token)
    sign_in(client, console_token)
    before = snapshot(db)
    for action in ("sync", "suspend", "resume", "rollback"):
        answer = client.post(f"/ui/stacks/nosuch/{action}", headers=HX)
        assert answer.status_code == 404, action
        assert "nosuch" in answer.text, action
    assert client.post("/ui/commands/99999/cancel", headers=HX).status_code == 404
    assert snapshot(db) == before


def test_cancel_of_a_pending_command_and_of_an_ended_one(
    make_console, db, shop, console_token, sign_in
) -> None:
    client = make_console(token=console_token)
    sign_in(client, console_token)
    answer = client.post(f"/ui/commands/{shop.command_id}/cancel", headers=HX)
    assert answer.status_code == 202, answer.text
    assert queued_id(answer.text) == shop.command_id
    assert db.commands.require(shop.command_id).status is CommandStatus.CANCELLED
    again = client.post(f"/ui/commands/{shop.command_id}/cancel", headers=HX)
    assert again.status_code == 409
    assert "nothing to cancel" in again.text
    assert db.commands.require(shop.command_id).status is CommandStatus.CANCELLED
