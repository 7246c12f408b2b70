"""``stackctl validate`` prints one digest for one folder however it is named on the command
line (issue 12, item 4): ``eco1``, ``./eco1``, the absolute path, ``eco1/compose.yaml``, ``.``
from inside, and the watched root that holds it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from controller.cli.app import app

COMPOSE = """\
services:
  web:
    image: stackctl-test/busybox:1
    pull_policy: never
    volumes: ["./data:/data"]
    env_file: [app.env]
"""


def digests(args: list[str]) -> dict[str, str]:
    result = CliRunner().invoke(app, ["validate", "-o", "json", *args])
    assert result.exit_code == 0, result.output
    return {e["stack"]: e["digest"] for e in json.loads(result.stdout)}


def test_every_name_of_one_folder_prints_one_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "manifests"
    (root / "eco1" / "data").mkdir(parents=True)
    (root / "eco1" / "compose.yaml").write_text(COMPOSE)
    (root / "eco1" / "app.env").write_text("LOG_LEVEL=info\n")
    seen = {}
    monkeypatch.chdir(root)
    for arg in ["eco1", "./eco1", str(root / "eco1"), "eco1/compose.yaml", "."]:
        seen[arg] = digests([arg])["eco1"]
    monkeypatch.chdir(tmp_path)
    seen["manifests"] = digests(["manifests"])["eco1"]
    seen["manifests/eco1"] = digests(["manifests/eco1"])["eco1"]
    monkeypatch.chdir(root / "eco1")
    seen[". (inside)"] = digests(["."])["eco1"]
    assert len(set(seen.values())) == 1, seen
