"""``stackctl validate``: one line per stack or error, JSON for scripts, exit codes 0/1/2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from controller.cli.app import app
from controller.sources.loader import load_root

GOOD = "services:\n  web: {image: nginx}\n"
BAD = "services:\n  web:\n    image: nginx\n    ports: [nope]\n"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def manifests(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "manifests"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_all_valid_exits_zero_with_one_line_per_stack(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifests(tmp_path, {"a/compose.yaml": GOOD, "b.yaml": GOOD})
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate"])  # default: ./manifests
    assert result.exit_code == 0, result.output
    digests = {name: s.digest[:12] for name, s in load_root(tmp_path / "manifests").stacks.items()}
    assert result.stdout.splitlines() == [
        f"OK a {digests['a']} manifests/a",
        f"OK b {digests['b']} manifests/b.yaml",
    ]


def test_an_invalid_manifest_exits_one_and_prints_file_line_path_message(
    runner: CliRunner, tmp_path: Path
) -> None:
    root = manifests(tmp_path, {"good/compose.yaml": GOOD, "bad/compose.yaml": BAD})
    result = runner.invoke(app, ["validate", str(root)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert (
        f"{root}/bad/compose.yaml:4: services.web.ports[0]: invalid container port 'nope'" in lines
    )
    assert any(line.startswith("OK good ") for line in lines)


def test_json_output(runner: CliRunner, tmp_path: Path) -> None:
    root = manifests(
        tmp_path, {"good/compose.yaml": GOOD, "bad/compose.yaml": BAD, "junk.yaml": "[1"}
    )
    result = runner.invoke(app, ["validate", str(root), "-o", "json"])
    assert result.exit_code == 1
    entries = {(e["stack"], e["valid"]): e for e in json.loads(result.stdout)}
    good = entries[("good", True)]
    assert len(good["digest"]) == 64 and good["errors"] == [] and good["source"].endswith("good")
    bad = entries[("bad", False)]
    assert bad["digest"] is None
    assert bad["errors"] == [
        {
            "file": f"{root}/bad/compose.yaml",
            "line": 4,
            "path": "services.web.ports[0]",
            "message": "invalid container port 'nope'",
        }
    ]
    junk = entries[(None, False)]
    assert junk["source"].endswith("junk.yaml") and junk["errors"][0]["line"] == 1


def test_a_single_file_path(runner: CliRunner, tmp_path: Path) -> None:
    root = manifests(tmp_path, {"b.yaml": GOOD})
    result = runner.invoke(app, ["validate", str(root / "b.yaml")])
    assert result.exit_code == 0 and result.stdout.startswith("OK b ")


def test_warnings_go_to_stderr(runner: CliRunner, tmp_path: Path) -> None:
    root = manifests(tmp_path, {"a/compose.yaml": "services:\n  web: {image: 'nginx$TAG'}\n"})
    result = runner.invoke(app, ["validate", str(root)])
    assert result.exit_code == 0
    assert "warning: variable `TAG` is not set" in result.stderr
    assert "warning:" not in result.stdout


def test_a_missing_path_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "no such file or directory" in result.stderr


def test_an_unknown_output_format_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    root = manifests(tmp_path, {"b.yaml": GOOD})
    assert runner.invoke(app, ["validate", str(root), "-o", "yaml"]).exit_code == 2
