"""``POST /api/v1/diff`` is a read (its POST carries the files): a viewer token limited to
``team=shop`` gets the plan of ``shop`` and of a new stack labelled ``team=shop``, and is
refused ``billing`` and a new stack that would not be its own (403), nothing written; the
plan is the controller's (``ControllerSide.plan``, given the applied version)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from helpers.teams import record_labelled

from controller.commands import tokens
from controller.db import Database
from controller.models.access import Role, StackSelector
from controller.models.audit import Actor, Surface
from controller.web.api.controller_side import ControllerSide

ROOT = Actor("admin token", "admin-token", Surface.CLI)


def body(name: str, team: str) -> dict[str, Any]:
    text = (
        "apiVersion: stackctl/v1\nkind: Stack\n"
        f"metadata: {{name: {name}, labels: {{team: {team}}}}}\n"
        "spec: {compose: {services: {web: {image: 'stackctl-test/busybox:2'}}}}\n"
    )
    return {"files": {f"{name}.yaml": base64.b64encode(text.encode()).decode()}}


def test_diff_follows_the_readers_stacks(make_console, db: Database, tmp_path: Path):
    record_labelled(db, tmp_path, "shop", {"team": "shop"}, image="stackctl-test/busybox:1")
    record_labelled(db, tmp_path, "billing", {"team": "billing"}, image="stackctl-test/busybox:1")
    planned = []

    def plan(desired, previous):
        planned.append((desired.name, previous.digest if previous else None))
        return [f"{desired.name}: web: recreate (image changed)"], 1

    side = ControllerSide(uploads=tmp_path / "uploads", plan=plan)
    api = make_console(token="admin-t0ken", controller_side=side)
    text, _ = tokens.create(
        db,
        ROOT,
        name="shop-reader",
        role=Role.VIEWER,
        stacks=StackSelector.parse("team=shop"),
        expires=None,
        owner=None,
    )
    reader = {"Authorization": f"Bearer {text}"}
    shop = api.post("/api/v1/diff", json=body("shop", "shop"), headers=reader)
    assert shop.status_code == 200, shop.text
    assert shop.json()["stacks"] == [
        {"name": "shop", "lines": ["shop: web: recreate (image changed)"], "differences": 1}
    ]
    applied = db.stack_versions.require("shop", "v1")
    assert planned == [("shop", applied.digest)]
    assert api.post("/api/v1/diff", json=body("cart", "shop"), headers=reader).status_code == 200
    for name, team in (("billing", "billing"), ("other", "billing"), ("shop", "billing")):
        refused = api.post("/api/v1/diff", json=body(name, team), headers=reader)
        assert refused.status_code == 403, (name, team, refused.text)
        assert refused.json()["message"].startswith(
            f"token shop-reader may not read stack {name!r}"
        )
    assert [call[0] for call in planned] == ["shop", "cart"]
    assert not any((tmp_path / "uploads").iterdir())
    assert db.stacks.get("cart") is None
