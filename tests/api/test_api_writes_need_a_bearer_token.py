"""The write endpoints enqueue (202 + the command) and only with the configured bearer token:
none configured is 403 saying how to enable them, a missing or wrong one is 401."""

from __future__ import annotations

import pytest

ACTIONS = ["sync", "rollback", "suspend", "resume"]


@pytest.mark.parametrize("action", ACTIONS)
def test_without_a_configured_token_writes_are_forbidden_and_say_how_to_enable(
    make_client, db, seeded, action
):
    client = make_client(token=None)
    response = client.post(
        f"/api/v1/stacks/shop/{action}", headers={"Authorization": "Bearer anything"}
    )
    assert response.status_code == 403
    assert "STACKCTL_API_TOKEN" in response.json()["message"]
    assert db.commands.list(stack_id="shop", status="PENDING").items == []


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic czNjcmV0LXRva2Vu"},
        {"Authorization": "s3cret-token"},
    ],
    ids=["missing", "wrong", "empty", "basic", "no-scheme"],
)
def test_a_missing_or_wrong_token_is_401_and_changes_nothing(client, db, seeded, action, headers):
    response = client.post(f"/api/v1/stacks/shop/{action}", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "token" in response.json()["message"]
    assert db.commands.list(stack_id="shop", status="PENDING").items == []
    assert db.stacks.require("shop").pinned is False


def test_auth_comes_before_the_name_check(client):
    assert client.post("/api/v1/stacks/ghost/sync").status_code == 401


def test_sync_answers_202_with_the_command_and_where_to_poll(client, db, seeded, auth):
    response = client.post("/api/v1/stacks/shop/sync", headers=auth)
    assert response.status_code == 202
    command = response.json()
    assert (command["type"], command["status"], command["stack_id"]) == (
        "RECONCILE", "PENDING", "shop")
    assert response.headers["location"] == f"/api/v1/commands/{command['command_id']}"
    assert client.get(response.headers["location"], headers=auth).json() == command
    again = client.post("/api/v1/stacks/shop/sync", headers=auth)
    assert again.status_code == 202 and again.json()["command_id"] == command["command_id"]


def test_rollback_by_default_and_to_a_named_version(client, db, seeded, auth):
    response = client.post("/api/v1/stacks/shop/rollback", headers=auth)
    assert response.status_code == 202, response.json()
    assert response.json()["payload"] == {"version": "v3", "rollback_to": "v1"}
    assert client.get("/api/v1/stacks/shop", headers=auth).json()["pinned"] is True
    named = client.post("/api/v1/stacks/shop/rollback", headers=auth, json={"version": "v2"})
    assert named.status_code == 202
    assert named.json()["payload"] == {"version": "v4", "rollback_to": "v2"}


def test_rollback_errors(client, db, seeded, auth):
    unknown = client.post("/api/v1/stacks/shop/rollback", headers=auth, json={"version": "v9"})
    assert unknown.status_code == 404 and "no version v9" in unknown.json()["message"]
    nothing = client.post("/api/v1/stacks/blog/rollback", headers=auth)
    assert nothing.status_code == 409 and "no version older" in nothing.json()["message"]
    bad = client.post("/api/v1/stacks/shop/rollback", headers=auth, json={"version": 3})
    assert bad.status_code == 422 and "body.version" in bad.json()["message"]


def test_suspend_then_resume(client, db, seeded, auth):
    suspended = client.post("/api/v1/stacks/shop/suspend", headers=auth)
    assert suspended.status_code == 202 and suspended.json()["type"] == "RECONCILE"
    suspended_now = client.get("/api/v1/stacks?suspended=true", headers=auth).json()["items"]
    assert suspended_now[0]["name"] == "shop"
    resumed = client.post("/api/v1/stacks/shop/resume", headers=auth)
    assert resumed.status_code == 202
    assert resumed.json()["payload"] == {"version": "v2"}
    assert client.get("/api/v1/stacks/shop", headers=auth).json()["suspended"] is False


@pytest.mark.parametrize("action", ACTIONS)
def test_an_unknown_stack_is_404_for_an_authorized_caller(client, auth, action):
    response = client.post(f"/api/v1/stacks/ghost/{action}", headers=auth)
    assert response.status_code == 404
    assert response.json() == {"message": "no stack named 'ghost'"}
