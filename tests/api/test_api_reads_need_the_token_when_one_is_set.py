"""Versions carry resolved environment values: when the controller has a token, every
``/api/v1`` read needs it too; ``/healthz``, ``/readyz`` and ``/metrics`` stay open. An option
opens the reads deliberately; without a token the reads are open (and the writes off)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.seeding import record

from controller.config.settings import load_settings
from controller.db import Database

TOKEN = "s3cret-token"
READS = [
    "/api/v1/stacks",
    "/api/v1/stacks/vault",
    "/api/v1/stacks/vault/versions",
    "/api/v1/stacks/vault/versions/v1",
    "/api/v1/commands",
    "/api/v1/events",
]
PASSWORD = "hunter2-resolved"


@pytest.fixture
def secret_stack(db: Database, tmp_path: Path) -> None:
    record(db, tmp_path, "vault", "nginx:1.27", applied=False, DB_PASSWORD=PASSWORD)


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": TOKEN}, {"Authorization": "Bearer "}],
)
def test_with_a_token_reads_without_it_are_401(make_client, secret_stack, path, headers):
    response = make_client(token=TOKEN).get(path, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert PASSWORD not in response.text


@pytest.mark.parametrize("path", READS)
def test_with_a_token_reads_with_it_answer(make_client, secret_stack, path):
    response = make_client(token=TOKEN).get(path, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text


def test_the_version_shows_the_resolved_value_only_to_the_token(make_client, secret_stack):
    client = make_client(token=TOKEN)
    path = "/api/v1/stacks/vault/versions/v1"
    assert PASSWORD in client.get(path, headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert PASSWORD not in client.get(path).text


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probes_and_metrics_stay_open(make_client, secret_stack, path):
    assert make_client(token=TOKEN).get(path).status_code == 200


@pytest.mark.parametrize("path", READS)
def test_open_reads_opens_the_reads_only(make_client, secret_stack, path):
    client = make_client(token=TOKEN, open_reads=True)
    assert client.get(path).status_code == 200
    assert client.post("/api/v1/stacks/vault/sync").status_code == 401


@pytest.mark.parametrize("path", READS)
def test_without_a_token_reads_are_open_and_writes_off(make_client, secret_stack, path):
    client = make_client(token=None)
    assert client.get(path).status_code == 200
    assert client.post("/api/v1/stacks/vault/sync").status_code == 403


@pytest.mark.parametrize(
    ("flag", "env", "expected"),
    [
        (None, None, False),
        (None, "1", True),
        (None, "true", True),
        (None, "0", False),
        (False, "1", False),  # the flag wins
        (True, None, True),
    ],
)
def test_the_open_reads_setting(flag, env, expected):
    environ = {} if env is None else {"STACKCTL_API_OPEN_READS": env}
    assert load_settings({"api_open_reads": flag}, environ=environ).api_open_reads is expected


def test_a_bad_open_reads_value_is_an_error():
    with pytest.raises(ValueError, match="STACKCTL_API_OPEN_READS='maybe'"):
        load_settings(environ={"STACKCTL_API_OPEN_READS": "maybe"})
