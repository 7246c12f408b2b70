"""A stack whose manifest now targets another engine than the one it runs on shows why it waits
and a Move button; the button (with the token session) queues the same approved move as
``stackctl move``, refused like every action without the session; a stack on its engine has
no such button."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from helpers.stacks import desired_stack

from controller.db import Database
from controller.models import CommandType
from controller.sources.versions import record_version

HX = {"HX-Request": "true"}
IMAGE = "stackctl-test/busybox:1"


def retarget(db: Database, tmp_path: Path, name: str, engine: str) -> None:
    desired = desired_stack(
        tmp_path / "moved", name, {"services": {"app": {"image": IMAGE}}}, target={"engine": engine}
    )
    assert record_version(db, desired, root=tmp_path / "moved") is not None


def test_move_button_shows_why_and_queues_the_approved_move(
    make_console, db, record_stack: Callable[..., str], tmp_path, console_token, sign_in
) -> None:
    record_stack("shop", IMAGE)  # v1, applied on local
    retarget(db, tmp_path, "shop", "edge")  # v2 targets edge: waits for approval
    client = make_console(token=console_token)
    sign_in(client, console_token)
    page = client.get("/stacks/shop").text
    assert "Move to edge" in page
    assert "Runs on engine local; its manifest now targets edge." in page

    refused = make_console(token=console_token).post("/ui/stacks/shop/move", headers=HX)
    assert refused.status_code == 401
    assert db.commands.list(stack_id="shop").items == []

    answer = client.post("/ui/stacks/shop/move", headers=HX)
    assert answer.status_code == 202, answer.text
    (command,) = db.commands.list(stack_id="shop").items
    assert command.type is CommandType.APPLY_STACK_VERSION
    assert command.payload["move"] == {"from": "local", "to": "edge"}


def test_no_move_button_when_the_stack_is_on_its_engine(
    make_console, db, record_stack, console_token, sign_in
) -> None:
    record_stack("shop", IMAGE)
    client = make_console(token=console_token)
    sign_in(client, console_token)
    page = client.get("/stacks/shop").text
    assert "Move to" not in page and "move-note" not in page
    answer = client.post("/ui/stacks/shop/move", headers=HX)
    assert answer.status_code == 409
    assert "nothing to move" in answer.text
