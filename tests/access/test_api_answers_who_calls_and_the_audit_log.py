"""``/api/v1/whoami`` says who the caller is and what they hold; ``/api/v1/audit`` lists the
changes made through the API with who made them, and has no route that changes or deletes an
entry; a write without credentials is 401 while authentication is on, 403 while it is off."""

from __future__ import annotations

from pathlib import Path

from helpers.teams import record_labelled, write_policy, write_routes

from controller.db import Database

ADMIN = {"Authorization": "Bearer admin-t0ken"}


def test_whoami_names_the_admin_token(make_console):
    client = make_console(token="admin-t0ken")
    assert client.get("/api/v1/whoami", headers=ADMIN).json() == {
        "name": "admin token",
        "kind": "admin-token",
        "via": None,
        "groups": [],
        "grants": ["admin"],
    }
    assert client.get("/api/v1/whoami").status_code == 401
    assert client.get("/api/v1/whoami", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_a_sync_through_the_api_is_in_the_audit_log(make_console, db: Database, tmp_path: Path):
    record_labelled(db, tmp_path, "shop", {"team": "shop"}, image="stackctl-test/busybox:1")
    client = make_console(token="admin-t0ken", access_policy=write_policy(tmp_path))
    command = client.post("/api/v1/stacks/shop/sync", headers=ADMIN).json()
    missing = client.post("/api/v1/stacks/nope/sync", headers=ADMIN)
    assert missing.status_code == 404
    items = client.get("/api/v1/audit", headers=ADMIN).json()["items"]
    assert [(i["who"], i["action"], i["stack_id"], i["result"]) for i in items] == [
        ("admin token", "sync", "nope", "refused"),
        ("admin token", "sync", "shop", "ok"),
    ]
    assert items[1]["command_id"] == command["command_id"] and items[1]["surface"] == "api"
    assert items[1]["address"] == "testclient"
    only = client.get("/api/v1/audit?stack=shop", headers=ADMIN).json()["items"]
    assert len(only) == 1
    assert client.get("/api/v1/audit").status_code == 401


def test_no_route_changes_or_deletes_audit_entries(make_console):
    client = make_console(token="admin-t0ken")
    assert not {path for path in write_routes(client.app, "/api/") if "audit" in path}
    assert client.delete("/api/v1/audit", headers=ADMIN).status_code == 405


def test_writes_without_credentials(make_console, db: Database, tmp_path: Path):
    record_labelled(db, tmp_path, "shop", {"team": "shop"}, image="stackctl-test/busybox:1")
    assert make_console().post("/api/v1/stacks/shop/sync").status_code == 403  # writes off
    assert make_console(token="admin-t0ken").post("/api/v1/stacks/shop/sync").status_code == 401


def test_a_change_from_the_remote_command_line_says_so(make_console, db: Database, tmp_path: Path):
    record_labelled(db, tmp_path, "shop", {"team": "shop"}, image="stackctl-test/busybox:1")
    client = make_console(token="admin-t0ken")
    cli = {**ADMIN, "User-Agent": "stackctl/0.1.0"}
    assert client.post("/api/v1/stacks/shop/sync", headers=cli).status_code == 202
    assert client.post("/api/v1/stacks/shop/suspend", headers=ADMIN).status_code == 202
    surfaces = [(e.action, e.surface.value) for e in db.audit.list().items]
    assert surfaces == [("suspend", "api"), ("sync", "cli")]
