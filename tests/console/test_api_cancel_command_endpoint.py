"""``POST /api/v1/commands/{id}/cancel``: a pending command becomes CANCELLED (202 with the
command and a Location), a bearer token is needed (401), an ended command is 409."""

from __future__ import annotations

from controller.models import Command, CommandStatus, CommandType


def test_cancel_a_pending_command(make_console, db, record_stack, console_token) -> None:
    record_stack("shop")
    pending = db.commands.enqueue(Command(stack_id="shop", type=CommandType.RECONCILE))
    client = make_console(token=console_token)
    bearer = {"Authorization": f"Bearer {console_token}"}

    refused = client.post(f"/api/v1/commands/{pending.command_id}/cancel")
    assert refused.status_code == 401
    assert db.commands.require(pending.command_id).status is CommandStatus.PENDING

    answer = client.post(f"/api/v1/commands/{pending.command_id}/cancel", headers=bearer)
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "CANCELLED"
    assert answer.headers["Location"] == f"/api/v1/commands/{pending.command_id}"
    assert db.commands.require(pending.command_id).status is CommandStatus.CANCELLED

    ended = client.post(f"/api/v1/commands/{pending.command_id}/cancel", headers=bearer)
    assert ended.status_code == 409
    assert "nothing to cancel" in ended.json()["message"]

    missing = client.post("/api/v1/commands/99999/cancel", headers=bearer)
    assert missing.status_code == 404


def test_cancel_needs_a_configured_token(make_console, db, record_stack) -> None:
    record_stack("shop")
    pending = db.commands.enqueue(Command(stack_id="shop", type=CommandType.RECONCILE))
    answer = make_console().post(f"/api/v1/commands/{pending.command_id}/cancel")
    assert answer.status_code == 403
    assert db.commands.require(pending.command_id).status is CommandStatus.PENDING
