"""Notification URLs carry tokens (issue 24, item 13): a version's compose document keeps them
for the sender, but wherever a version is shown (the API, ``stackctl history`` and ``get
versions`` in JSON and YAML) only the scheme and the host are left."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers.stacks import desired_stack

from controller.db import Database
from controller.desired.shown import mask_destination
from controller.sources.versions import record_version

COMPOSE = {"services": {"web": {"image": "busybox:1", "pull_policy": "never"}}}
SECRETS = ("tok-in-user", "pw-in-user", "tok-in-path", "tok-in-query", "/srv/hook.key", "T0KEN")
NOTIFY = [
    "json://tok-in-user:pw-in-user@hooks.internal:9000/shop",
    {"url": "ntfy://ntfy.internal/tok-in-path", "events": ["apply.failed"]},
    "webhook+https://ci.internal/hook?secret_file=/srv/hook.key&x=tok-in-query",
    "slack://T0KEN/B0/C0",
]


@pytest.fixture
def with_destinations(db: Database, tmp_path: Path) -> None:
    record_version(db, desired_stack(tmp_path, "shop", COMPOSE, notify=NOTIFY), root=tmp_path)


def shown_urls(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret
    assert "json://***@hooks.internal:9000/***" in text
    assert "ntfy://ntfy.internal/***" in text
    assert "webhook+https://ci.internal/***" in text
    assert "slack://***/***" in text


def test_the_api_shows_the_version_with_its_urls_masked(make_client, with_destinations, db):
    client = make_client(token=None)
    answer = client.get("/api/v1/stacks/shop/versions/v1")
    assert answer.status_code == 200
    notify = answer.json()["compose"]["x-stackctl"]["notify"]
    assert notify[1]["events"] == ["apply.failed"]
    shown_urls(answer.text)
    # The stored version still holds them: the sender reads them from there.
    stored = db.stack_versions.require("shop", "v1").compose.model_dump(mode="json")
    assert "tok-in-path" in json.dumps(stored)


@pytest.mark.parametrize(
    "args",
    [
        ["history", "shop", "-o", "json"],
        ["history", "shop", "-o", "yaml"],
        ["get", "versions", "shop", "-o", "json"],
        ["get", "versions", "shop", "-o", "yaml"],
    ],
)
def test_the_cli_shows_versions_with_their_urls_masked(with_destinations, db_path, args):
    shown = subprocess.run(
        [sys.executable, "-m", "controller", *args, "--db", str(db_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    shown_urls(shown.stdout)
    assert yaml.safe_load(shown.stdout)  # still one document a script can read


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("json://127.0.0.1:9000/hook", "json://127.0.0.1:9000/***"),
        ("json://hooks.internal", "json://hooks.internal"),
        ("https://[fd00::1]:8443/x?t=1", "https://[fd00::1]:8443/***"),
        (
            "mailto://user:pw@mail.example.com?to=ops@example.com",
            "mailto://***@mail.example.com/***",
        ),
        ("not a url", "***"),
    ],
)
def test_the_masked_form_keeps_scheme_and_host(url: str, masked: str):
    assert mask_destination(url) == masked
