"""Issue 12, item 4 on a real engine: a project folder applied as part of its watched root
(``apply manifests``, what the controller records) and then by its own path (``apply
manifests/eco1``) is one digest: the second apply records nothing and recreates nothing, and
the relative bind mount resolves to the folder's ``data`` in both versions' terms."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from controller.cli import app

pytestmark = pytest.mark.engine


def stackctl(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_apply_root_then_folder_records_nothing_new(
    tmp_path: Path, engine_janitor, test_images, docker_client
) -> None:
    name = engine_janitor.project("eco")
    folder = tmp_path / "manifests" / name
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "hello").write_text("from the folder\n")
    (folder / "compose.yaml").write_text(
        f"services:\n  app:\n    image: {test_images.v1}\n    pull_policy: never\n"
        "    command: [sleep, '3600']\n    init: true\n    volumes: ['./data:/data:ro']\n"
    )
    db = str(tmp_path / "stackctl.db")
    code, out = stackctl("apply", str(tmp_path / "manifests"), "--db", db)
    assert code == 0, out
    assert f"{name}: recorded v1" in out
    container = docker_client.containers.get(f"{name}-app-1")
    assert container.exec_run(["cat", "/data/hello"]).output == b"from the folder\n"

    code, out = stackctl("apply", str(folder), "--db", db)
    assert code == 0, out
    assert f"{name}: unchanged (v1)" in out
    assert "in sync, nothing to do" in out
    assert docker_client.containers.get(f"{name}-app-1").id == container.id
