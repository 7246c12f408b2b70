"""``stackctl apply PATH`` answered before typer (``cli/quick_files.py``) records its audit entry
as the typer command does: one per stack, ``apply`` by ``local:<user>`` with the version and
the command, in the transaction that records them, and nothing of typer nor argon2 loaded."""

from __future__ import annotations

import os
import subprocess
import sys

import yaml

from controller.db import Database

PROBE = """
import sys
sys.argv = ["stackctl", "apply", {folder!r}]
from controller.cli import main
try:
    main()
finally:
    loaded = [m for m in ("typer", "argon2", "controller.commands.tokens") if m in sys.modules]
    sys.stderr.write("\\nLOADED " + ",".join(loaded) + "\\n")
"""


def test_the_quick_apply_records_who_applied_each_stack(engine_janitor, test_images, tmp_path):
    name = engine_janitor.project("app")
    service = {"image": test_images.v1, "command": ["sleep", "3600"], "init": True}
    head = {"apiVersion": "stackctl/v1", "kind": "Stack", "metadata": {"name": name}}
    folder = tmp_path / "stack"
    folder.mkdir()
    (folder / "app.yaml").write_text(
        yaml.safe_dump({**head, "spec": {"compose": {"services": {"app": service}}}})
    )
    db_path = tmp_path / "stackctl.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACKCTL_")}
    env.update(STACKCTL_DB=str(db_path), LOGNAME="ann", COLUMNS="100")
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(folder=str(folder))],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.rstrip("\n").rpartition("\n")[2] == "LOADED "  # quick, no argon2
    with Database(db_path=db_path) as db:
        [entry] = db.audit.list().items
        command = db.commands.require(entry.command_id or 0)
        version = db.stack_versions.require(name, "v1")
    assert (entry.who, entry.surface, entry.action, entry.stack_id, entry.version) == (
        "local:ann",
        "cli",
        "apply",
        name,
        "v1",
    )
    assert command.stack_id == name and command.payload["version"] == "v1"
    assert version.metadata.created_by == "stackctl apply by local:ann"
