"""``stackctl validate`` on a folder declaring a repository: one OK line (or JSON entry) for it,
never "invalid" for a file that declares only repositories; its mistakes as for stacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPOSITORY = (
    "apiVersion: stackctl/v1\nkind: Repository\nmetadata: {{name: infra}}\n"
    "spec: {{url: 'https://git.example.com/ops/infra.git', interval: {interval}}}\n"
)


def _validate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "controller", "validate", *args], capture_output=True, text=True
    )


def test_a_valid_repository_is_ok_in_text_and_json(tmp_path: Path) -> None:
    (tmp_path / "infra.yaml").write_text(REPOSITORY.format(interval="30s"))
    text = _validate(str(tmp_path))
    assert text.returncode == 0, text.stderr
    assert text.stdout.strip() == f"OK repository infra {tmp_path / 'infra.yaml'}"
    data = _validate(str(tmp_path), "-o", "json")
    assert data.returncode == 0
    assert json.loads(data.stdout) == [
        {"repository": "infra", "source": str(tmp_path / "infra.yaml"), "valid": True, "errors": []}
    ]


def test_a_mistake_is_one_line_with_file_line_and_key(tmp_path: Path) -> None:
    (tmp_path / "infra.yaml").write_text(REPOSITORY.format(interval="10"))
    done = _validate(str(tmp_path))
    assert done.returncode == 1
    assert f"{tmp_path / 'infra.yaml'}:4: spec.interval: a duration needs a unit" in done.stdout
