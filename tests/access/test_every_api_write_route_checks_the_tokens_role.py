"""Tokens on the API: every write route is walked with a viewer, an operator limited to the
stacks labelled team=shop, and an admin token. A viewer reads and is refused every write (403);
the operator acts on shop only; the admin everywhere; a revoked token is refused at once, even
by an app that accepted it a moment before; nobody is 401."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from helpers.teams import record_labelled, write_routes

from controller.commands import operations, tokens
from controller.db import Database
from controller.models.access import Role, StackSelector
from controller.models.audit import Actor, AuditResult, Surface

ROOT = Actor("admin token", "admin-token", Surface.CLI)


def manifest(stack: str) -> dict[str, Any]:
    """``POST /api/v1/apply``'s body: a new version of ``stack``, its labels unchanged."""
    text = (
        "apiVersion: stackctl/v1\nkind: Stack\n"
        f"metadata: {{name: {stack}, labels: {{team: {stack}}}}}\n"
        "spec: {compose: {services: {web: {image: 'stackctl-test/busybox:3'}}}}\n"
    )
    return {"files": {f"{stack}.yaml": base64.b64encode(text.encode()).decode()}}


# Every write route of the API but the forges' webhook (signed by the repository's secret)
# and /api/v1/diff (a read: its POST carries the files to compare).
ROUTES: dict[str, tuple[str, Any]] = {
    "/api/v1/apply": ("apply", manifest),
    "/api/v1/stacks/{name}/sync": ("sync", None),
    "/api/v1/stacks/{name}/rollback": ("rollback", {"version": "v1"}),
    "/api/v1/stacks/{name}/suspend": ("suspend", None),
    "/api/v1/stacks/{name}/resume": ("resume", None),
    "/api/v1/commands/{command_id}/cancel": ("cancel", None),
    "/api/v1/repositories/{name}/sync": ("fetch", None),
}


@pytest.fixture
def api(make_console, db: Database, tmp_path: Path) -> Any:
    for image in ("stackctl-test/busybox:1", "stackctl-test/busybox:2"):
        record_labelled(db, tmp_path, "shop", {"team": "shop"}, image=image)
        record_labelled(db, tmp_path, "billing", {"team": "billing"}, image=image)
    return make_console(token="admin-t0ken")


def bearer(db: Database, name: str, role: Role, stacks: str | None = None) -> dict[str, str]:
    selector = StackSelector.parse(stacks) if stacks else None
    text, _ = tokens.create(
        db, ROOT, name=name, role=role, stacks=selector, expires=None, owner=None
    )
    return {"Authorization": f"Bearer {text}"}


def test_the_walk_covers_every_write_route(api):
    assert write_routes(api.app, "/api/") - {"/api/v1/hooks/git", "/api/v1/diff"} == set(ROUTES)


def _url(path: str, stack: str, db: Database) -> str:
    if "{command_id}" in path:
        return path.format(command_id=operations.sync(db, stack).command_id)
    return path.format(name=stack)


@pytest.mark.parametrize(
    ("role", "stacks", "allowed"),
    [
        (Role.VIEWER, None, set()),
        (Role.OPERATOR, "team=shop", {"shop"}),
        (Role.ADMIN, None, {"shop", "billing", "repository"}),
    ],
)
@pytest.mark.parametrize("path", sorted(ROUTES))
def test_every_write_route_checks_the_role_on_what_it_touches(
    api, db: Database, path, role, stacks, allowed
):
    headers = bearer(db, "t", role, stacks)
    action, body = ROUTES[path]
    for stack in ("shop", "billing"):
        sent = body(stack) if callable(body) else body
        answer = api.post(_url(path, stack, db), json=sent, headers=headers)
        may = ("repository" if action == "fetch" else stack) in allowed
        may = may and (action != "apply" or role is Role.ADMIN)  # apply is an admin's
        if may:
            assert answer.status_code not in (401, 403), (path, stack, answer.text)
        else:
            assert answer.status_code == 403, (path, stack, answer.text)
            assert "token t may not" in answer.json()["message"]
    denied = [e for e in db.audit.list().items if e.result is AuditResult.DENIED]
    assert all(e.who == "token t" and e.via == "t" for e in denied)


def test_a_viewer_token_reads_and_is_refused_writes(api, db: Database):
    viewer = bearer(db, "dashboards", Role.VIEWER)
    listed = api.get("/api/v1/stacks", headers=viewer)
    assert listed.status_code == 200
    assert [s["stack_id"] for s in listed.json()["items"]] == ["billing", "shop"]
    assert api.get("/api/v1/stacks/shop/versions", headers=viewer).status_code == 200
    refused = api.post("/api/v1/stacks/shop/sync", headers=viewer)
    assert refused.status_code == 403
    assert refused.json()["message"].startswith("token dashboards may not sync stack 'shop'")
    entry = db.audit.list().items[0]
    assert (entry.who, entry.action, entry.result) == (
        "token dashboards",
        "sync",
        AuditResult.DENIED,
    )


def test_a_scoped_token_sees_only_its_stacks(api, db: Database):
    shop = bearer(db, "shop-reader", Role.VIEWER, "team=shop")
    listed = api.get("/api/v1/stacks", headers=shop).json()["items"]
    assert [s["stack_id"] for s in listed] == ["shop"]
    assert api.get("/api/v1/stacks/billing", headers=shop).status_code == 403
    assert api.get("/api/v1/whoami", headers=shop).json()["grants"] == ["viewer on team=shop"]


def test_a_revoked_token_is_refused_at_once(api, make_console, db: Database):
    operator = bearer(db, "ci", Role.OPERATOR)
    other_app = make_console(token="admin-t0ken")  # another process's view of the same file
    assert api.post("/api/v1/stacks/shop/sync", headers=operator).status_code == 202
    assert other_app.post("/api/v1/stacks/shop/sync", headers=operator).status_code == 202
    tokens.revoke(db, ROOT, "ci")
    for app in (api, other_app):
        refused = app.get("/api/v1/stacks", headers=operator)
        assert refused.status_code == 401
        assert "revoked" in refused.json()["message"]


def test_an_operator_token_acts_as_itself_in_versions_and_the_audit(api, db: Database):
    operator = bearer(db, "deployer", Role.OPERATOR, "team=shop")
    answer = api.post("/api/v1/stacks/shop/rollback", json={"version": "v1"}, headers=operator)
    assert answer.status_code == 202, answer.text
    version = db.stack_versions.require("shop", "v3")
    assert version.metadata.created_by == "stackctl rollback by token deployer"
    [entry] = [e for e in db.audit.list(stack_id="shop").items if e.action == "rollback"]
    assert (entry.who, entry.via, entry.surface.value) == ("token deployer", "deployer", "api")
