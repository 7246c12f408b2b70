"""``POST /api/v1/hooks/git`` moves bytes to the controller's push handler and its answer back
(bodies over 5 MiB refused unread, no handler: 503, no bearer token asked), and
``/api/v1/repositories`` reads and flags the repositories' rows."""

from __future__ import annotations

from collections.abc import Mapping

from controller.db import Database
from controller.models import FetchStatus, Repository
from controller.sources.git.webhooks import MAX_BODY

TOKEN = "hook-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_the_route_passes_headers_body_and_query_and_answers_what_the_handler_says(
    make_client,
) -> None:
    seen: list[tuple[Mapping[str, str], bytes, str | None]] = []

    def on_push(*, headers, body, repository):
        seen.append((headers, body, repository))
        return 202, {"detail": "fetching infra now", "repository": "infra"}

    client = make_client(token=TOKEN, on_push=on_push)
    signed = {"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + "0" * 64}
    answer = client.post(
        "/api/v1/hooks/git?repository=infra", content=b'{"x": 1}', headers=signed
    )
    assert answer.status_code == 202
    assert answer.json() == {"message": "fetching infra now", "repository": "infra"}
    ((headers, body, repository),) = seen
    assert headers["x-github-event"] == "push" and body == b'{"x": 1}' and repository == "infra"
    # Unsigned: the handler answers from the headers; the body is never read.
    client.post("/api/v1/hooks/git", content=b'{"x": 1}', headers={"X-GitHub-Event": "push"})
    assert seen[-1][1] == b"" and seen[-1][2] is None


def test_a_body_over_5_mib_is_413_and_never_reaches_the_handler(make_client) -> None:
    seen: list[bytes] = []
    client = make_client(on_push=lambda **kw: (seen.append(kw["body"]), (202, {}))[1])
    answer = client.post("/api/v1/hooks/git", content=b"x" * (MAX_BODY + 1))
    assert answer.status_code == 413 and seen == []


def test_without_followed_repositories_the_hook_is_503(make_client) -> None:
    assert make_client().post("/api/v1/hooks/git", content=b"{}").status_code == 503


def test_repositories_are_read_and_a_fetch_is_flagged_with_the_token(
    make_client, db: Database
) -> None:
    db.repositories.declare(
        Repository(
            name="infra",
            url="https://***@git.example.com/ops/infra.git",
            ref="main",
            path="stacks",
            interval_s=60,
            declared_by="repos.yaml",
        )
    )
    db.repositories.record_fetch("infra", result=FetchStatus.FAILED, error="unreachable: no route")
    client = make_client(token=TOKEN)
    assert client.get("/api/v1/repositories").status_code == 401
    (item,) = client.get("/api/v1/repositories", headers=AUTH).json()["items"]
    assert item["url"] == "https://***@git.example.com/ops/infra.git"
    assert item["last_result"] == "failed" and item["last_error"] == "unreachable: no route"
    assert client.get("/api/v1/repositories/nope", headers=AUTH).status_code == 404
    assert client.post("/api/v1/repositories/infra/sync").status_code == 401
    flagged = client.post("/api/v1/repositories/infra/sync", headers=AUTH)
    assert flagged.status_code == 202 and flagged.json()["fetch_requested_at"]
    assert db.repositories.take_requests() == ["infra"]
