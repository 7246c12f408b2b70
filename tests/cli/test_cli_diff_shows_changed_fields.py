"""``stackctl diff`` shows, under the plan, each changed field of each service with its old and
new value, secret-looking values masked (issue 12, item 5); on a real engine."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from controller.cli import app

pytestmark = pytest.mark.engine


def write(folder: Path, *, name: str, image: str, level: str, password: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    compose = {
        "services": {
            "app": {
                "image": image,
                "pull_policy": "never",
                "command": ["sleep", "3600"],
                "init": True,
                "environment": {"LOG_LEVEL": level, "DB_PASSWORD": password},
            },
            "debug": {"image": image, "profiles": ["debug"]},
        }
    }
    (folder / f"{name}.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "stackctl/v1",
                "kind": "Stack",
                "metadata": {"name": name},
                "spec": {"compose": compose},
            }
        )
    )


def stackctl(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_diff_lists_changed_fields_and_masks_secrets(tmp_path, engine_janitor, test_images):
    name = engine_janitor.project("fields")
    db = str(tmp_path / "stackctl.db")
    manifests = tmp_path / "manifests"
    write(manifests, name=name, image=test_images.v1, level="info", password="hunter2")
    code, out = stackctl("apply", str(manifests), "--db", db)
    assert code == 0, out

    write(manifests, name=name, image=test_images.v1, level="debug", password="hunter3")
    code, out = stackctl("diff", str(manifests), "--db", db)
    assert code == 1, out
    assert f"{name}: recreate {name}-app-1: environment DB_PASSWORD, LOG_LEVEL changed" in out
    assert f"{name}: app:" in out
    assert '    ~ environment.LOG_LEVEL: "info" -> "debug"' in out
    assert "    ~ environment.DB_PASSWORD: *** -> ***" in out
    assert "hunter" not in out
    assert f"{name}: service debug disabled (profiles: debug; none active)" in out

    code, out = stackctl("apply", str(manifests), "--db", db)
    assert code == 0, out
    code, out = stackctl("diff", str(manifests), "--db", db)
    assert code == 0, out
    assert f"{name}: no differences" in out
