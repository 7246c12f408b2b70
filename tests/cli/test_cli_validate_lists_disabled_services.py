"""``stackctl validate`` names the services that profiles leave out (issue 12, item 3): an
indented line under the stack's OK line, and ``disabled_services`` in ``-o json``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from controller.cli.app import app

COMPOSE = """\
services:
  web: {image: nginx}
  debug: {image: busybox, profiles: [debug]}
  tools: {image: busybox, profiles: [ops, debug]}
"""


def test_validate_lists_disabled_services(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "compose.yaml").write_text(COMPOSE)
    result = CliRunner().invoke(app, ["validate", str(folder)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("OK app ")
    assert lines[1:] == [
        "  service debug disabled (profiles: debug; none active)",
        "  service tools disabled (profiles: ops, debug; none active)",
    ]
    result = CliRunner().invoke(app, ["validate", "-o", "json", str(folder)])
    [entry] = json.loads(result.stdout)
    assert entry["disabled_services"] == {"debug": ["debug"], "tools": ["ops", "debug"]}

    (folder / ".env").write_text("COMPOSE_PROFILES=ops\n")
    result = CliRunner().invoke(app, ["validate", str(folder)])
    assert result.stdout.splitlines()[1:] == [
        "  service debug disabled (profiles: debug; none active)"
    ]
