"""Commit statuses, against a local server shaped as GitHub's, Gitea's and GitLab's status
endpoints: pending when a version from a repository is recorded, success or failure when its
apply ends, with the token and the stack's page."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.recorder import Recorder
from helpers.stacks import desired_stack

from controller.db import Database
from controller.delivery.notifications.sender import Sender
from controller.desired.delivery import CommitStatus
from controller.desired.repository_spec import RepositorySpec
from controller.models import StackMetadata
from controller.sources.versions import record_version, version_payload

COMPOSE = {"services": {"web": {"image": "busybox:1", "pull_policy": "never"}}}
SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def db(tmp_path: Path):
    with Database(db_path=tmp_path / "stackctl.db") as database:
        yield database


def from_repository(db: Database, tmp_path: Path) -> None:
    meta = StackMetadata(
        created_by="stackctl watcher",
        git_repository="infra",
        git_ref="main",
        git_commit=SHA,
        git_subject="web: 1.2",
    )
    version = record_version(
        db, desired_stack(tmp_path, "shop", COMPOSE), root=tmp_path, metadata=meta
    )
    assert version is not None
    db.outbox.add(
        "apply.succeeded",
        key="apply.succeeded:1",
        stack_id="shop",
        payload=version_payload(version, message="shop v1 applied: 1 change"),
    )
    db.outbox.add(
        "apply.failed",
        key="apply.failed:2",
        stack_id="shop",
        payload=version_payload(version, message="shop v1: apply failed: boom"),
    )
    db.outbox.add(
        "health.degraded",
        key="event:9",
        stack_id="shop",
        payload=version_payload(version, message="not a status"),
    )


def spec(recorder: Recorder, provider: str, token: Path) -> RepositorySpec:
    return RepositorySpec(
        name="infra",
        url="https://git.example.com/ops/infra.git",
        commit_status=CommitStatus(
            provider=provider, token_file=token, api_url=f"http://{recorder.base}"
        ),
    )


@pytest.mark.parametrize(
    ("provider", "path", "auth", "failure"),
    [
        ("github", f"/repos/ops/infra/statuses/{SHA}", ("authorization", "Bearer tok"), "failure"),
        (
            "gitea",
            f"/api/v1/repos/ops/infra/statuses/{SHA}",
            ("authorization", "token tok"),
            "failure",
        ),
        (
            "forgejo",
            f"/api/v1/repos/ops/infra/statuses/{SHA}",
            ("authorization", "token tok"),
            "failure",
        ),
        (
            "gitlab",
            f"/api/v4/projects/ops%2Finfra/statuses/{SHA}",
            ("private-token", "tok"),
            "failed",
        ),
    ],
)
def test_each_forge_gets_pending_then_the_outcome(
    db, recorder: Recorder, tmp_path, provider, path, auth, failure
):
    token = tmp_path / "token"
    token.write_text("tok\n")
    from_repository(db, tmp_path)
    sender = Sender(
        db,
        repository=lambda name: spec(recorder, provider, token) if name == "infra" else None,
        public_url="https://stackctl.example.com/",
    )
    sender.drain()
    requests = recorder.wait_for(path, 3)
    assert len(recorder.received("/")) == 3  # health.degraded is not a commit status
    assert all(r.headers[auth[0]] == auth[1] for r in requests)
    bodies = [r.json() for r in requests]
    states = sorted(b["state"] for b in bodies)
    assert states == sorted(["pending", "success", failure])
    name_key = "name" if provider == "gitlab" else "context"
    assert {b[name_key] for b in bodies} == {"stackctl/shop"}
    assert {b["target_url"] for b in bodies} == {"https://stackctl.example.com/stacks/shop"}
    assert any("shop v1 applied" in b["description"] for b in bodies)


def test_no_status_without_commit_status_settings_or_git_metadata(db, recorder, tmp_path):
    token = tmp_path / "token"
    token.write_text("tok")
    record_version(db, desired_stack(tmp_path, "blog", COMPOSE), root=tmp_path)  # no commit
    from_repository(db, tmp_path)
    Sender(db, repository=lambda name: None).drain()  # the repository has no commitStatus
    assert recorder.received("/") == []
    assert db.outbox.counts() == {}
