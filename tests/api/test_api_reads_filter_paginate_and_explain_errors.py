"""The read endpoints: every list, filter and pagination edge, and JSON errors (404, 422)."""

from __future__ import annotations

import pytest

from controller.models import Command, CommandType, Event


@pytest.fixture
def client(client, auth):
    """The app has a token: reads send it (``test_api_reads_need_the_token`` checks why)."""
    client.headers.update(auth)
    return client


def test_stacks_list_and_filters(client, seeded):
    body = client.get("/api/v1/stacks").json()
    assert [s["name"] for s in body["items"]] == ["blog", "shop"]
    assert body["next_cursor"] is None
    shop = body["items"][1]
    assert (shop["current_version"], shop["applied_version"], shop["pinned"]) == ("v2", "v2", False)
    assert [s["name"] for s in client.get("/api/v1/stacks?sync=Synced").json()["items"]] == [
        "shop"
    ]
    assert [s["name"] for s in client.get("/api/v1/stacks?health=Unknown").json()["items"]] == [
        "blog"
    ]
    assert client.get("/api/v1/stacks?pinned=true").json()["items"] == []
    assert len(client.get("/api/v1/stacks?suspended=false").json()["items"]) == 2


def test_stacks_page_by_name_with_limit_and_cursor(client, seeded):
    first = client.get("/api/v1/stacks?limit=1").json()
    assert [s["name"] for s in first["items"]] == ["blog"] and first["next_cursor"]
    second = client.get("/api/v1/stacks", params={"limit": 1, "cursor": first["next_cursor"]})
    assert [s["name"] for s in second.json()["items"]] == ["shop"]
    assert second.json()["next_cursor"] is None
    for odd in ("!!!!", "bmFtZTo", "aWQ6MQ", "%ff"):  # not base64, "name:", "id:1"
        answer = client.get("/api/v1/stacks", params={"cursor": odd})
        assert answer.status_code == 422 and "invalid cursor" in answer.json()["message"], odd
    assert client.get("/api/v1/stacks?limit=501").status_code == 422


def test_stacks_list_of_an_empty_database(client):
    assert client.get("/api/v1/stacks").json() == {"items": [], "next_cursor": None}


def test_a_stack_with_its_conditions_and_latest_version(client, seeded):
    body = client.get("/api/v1/stacks/shop").json()
    assert body["stack_id"] == "shop" and body["latest_version"] == "v2"
    conditions = {c["type"]: c for c in body["conditions"]}
    assert conditions["Synced"]["status"] is True
    assert conditions["Pinned"] == {
        "type": "Pinned", "status": False, "reason": "FollowsFiles", "message": ""}
    assert body["runtime"] == {}


def test_versions_newest_first_without_compose_and_one_with_it(client, seeded):
    body = client.get("/api/v1/stacks/shop/versions").json()
    assert [v["version"] for v in body["items"]] == ["v2", "v1"]
    assert "compose" not in body["items"][0]
    assert body["items"][0]["current"] is True and body["items"][1]["current"] is False
    assert body["next_cursor"] is None
    one = client.get("/api/v1/stacks/shop/versions/v1").json()
    assert one["version"] == "v1" and one["status"] == "APPLIED"
    assert one["compose"]["services"]["web"]["image"] == "stackctl-test/busybox:1"


def test_a_version_is_also_found_by_its_number_as_the_cli_takes_it(client, seeded):
    assert client.get("/api/v1/stacks/shop/versions/1").json()["version"] == "v1"
    assert client.get("/api/v1/stacks/shop/versions/9").status_code == 404


def test_versions_page_by_cursor(client, seeded):
    first = client.get("/api/v1/stacks/shop/versions?limit=1").json()
    assert [v["version"] for v in first["items"]] == ["v2"] and first["next_cursor"]
    second = client.get(f"/api/v1/stacks/shop/versions?limit=1&cursor={first['next_cursor']}")
    assert [v["version"] for v in second.json()["items"]] == ["v1"]
    assert second.json()["next_cursor"] is None


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/v1/stacks/ghost", 404, "no stack named 'ghost'"),
        ("/api/v1/stacks/ghost/versions", 404, "no stack named 'ghost'"),
        ("/api/v1/stacks/shop/versions/v9", 404, "stack 'shop' has no version v9"),
        ("/api/v1/stacks/ghost/versions/v1", 404, "no stack named 'ghost'"),
        ("/api/v1/stacks/shop/versions/latest", 422, "not of the form v1"),
        ("/api/v1/commands/999", 404, "no command 999"),
        ("/api/v1/commands/999/logs", 404, "no command 999"),
        ("/api/v1/commands/abc", 422, "path.command_id"),
        ("/api/v1/stacks/shop/versions?cursor=nope", 422, "invalid cursor"),
    ],
)
def test_errors_are_json_with_a_message(client, seeded, path, status, message):
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert message in response.json()["message"]


def test_commands_newest_first_with_filters(client, seeded):
    ids = [c["command_id"] for c in client.get("/api/v1/commands").json()["items"]]
    assert ids == [seeded.pending.command_id, seeded.failed.command_id, seeded.done.command_id]

    def listed(query: str) -> list[int]:
        response = client.get(f"/api/v1/commands?{query}")
        assert response.status_code == 200, response.json()
        return [c["command_id"] for c in response.json()["items"]]

    assert listed("stack=shop") == [seeded.failed.command_id, seeded.done.command_id]
    assert listed("status=FAILED") == [seeded.failed.command_id]
    assert listed("type=RECONCILE") == [seeded.done.command_id]
    assert listed("stack=shop&status=DONE&type=RECONCILE") == [seeded.done.command_id]
    assert listed("stack=shop&status=PENDING") == []
    assert listed("stack=ghost") == []
    failed = client.get(f"/api/v1/commands/{seeded.failed.command_id}").json()
    assert (failed["status"], failed["error"]) == ("FAILED", "port 8080 is already allocated")


def test_commands_pagination_edges(client, db, seeded):
    empty = client.get("/api/v1/commands?status=CANCELLED").json()
    assert empty == {"items": [], "next_cursor": None}
    exactly = client.get("/api/v1/commands?limit=3").json()
    assert len(exactly["items"]) == 3 and exactly["next_cursor"] is None
    for _ in range(4):
        db.commands.enqueue(Command(stack_id="blog", type=CommandType.RECONCILE))
    seen, cursor = [], None
    while True:
        query = "limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(f"/api/v1/commands?{query}").json()
        seen += [c["command_id"] for c in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == 7


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ("limit=501", "query.limit"),
        ("limit=0", "query.limit"),
        ("status=LOST", "query.status"),
        ("type=REBOOT", "query.type"),
        ("cursor=not-a-cursor", "invalid cursor"),
        ("cursor=aWQ6", "invalid cursor"),  # base64 of "id:" without a number
    ],
)
def test_bad_parameters_are_422(client, seeded, query, where):
    response = client.get(f"/api/v1/commands?{query}")
    assert response.status_code == 422
    assert where in response.json()["message"]


def test_command_logs_in_order_and_after_an_id(client, seeded):
    cid = seeded.failed.command_id
    body = client.get(f"/api/v1/commands/{cid}/logs").json()
    assert [line["message"] for line in body["items"]] == [
        "APPLY_STACK_VERSION started", "port 8080 is already allocated"]
    assert body["command_status"] == "FAILED"
    first_id = body["items"][0]["log_id"]
    assert body["next_after"] == body["items"][1]["log_id"]
    later = client.get(f"/api/v1/commands/{cid}/logs?after={first_id}").json()
    assert [line["message"] for line in later["items"]] == ["port 8080 is already allocated"]
    done = client.get(f"/api/v1/commands/{cid}/logs?after={body['next_after']}").json()
    assert done["items"] == [] and done["next_after"] == body["next_after"]
    assert client.get(f"/api/v1/commands/{cid}/logs?after=-1").status_code == 422


def test_events_newest_first_by_stack_and_by_page(client, db, seeded):
    body = client.get("/api/v1/events").json()
    assert [e["reason"] for e in body["items"]] == ["ControllerStarted", "ManifestInvalid"]
    shop = client.get("/api/v1/events?stack=shop").json()["items"]
    assert [e["reason"] for e in shop] == ["ManifestInvalid"] and shop[0]["level"] == "ERROR"
    db.events.add(Event(stack_id="gone", reason="StackDeleted", message="removed"))
    first = client.get("/api/v1/events?limit=2").json()
    assert [e["reason"] for e in first["items"]] == ["StackDeleted", "ControllerStarted"]
    rest = client.get(f"/api/v1/events?limit=2&cursor={first['next_cursor']}").json()
    assert [e["reason"] for e in rest["items"]] == ["ManifestInvalid"]
    assert rest["next_cursor"] is None
    assert client.get("/api/v1/events?limit=600").status_code == 422


def test_deleted_stacks_are_listed_only_with_all(client, db) -> None:
    from controller.models import Stack

    db.stacks.create(Stack(stack_id="gone", name="gone"))  # no desired, no applied: deleted
    names = [s["name"] for s in client.get("/api/v1/stacks").json()["items"]]
    assert "gone" not in names
    everything = client.get("/api/v1/stacks?all=true").json()["items"]
    assert "gone" in [s["name"] for s in everything]
