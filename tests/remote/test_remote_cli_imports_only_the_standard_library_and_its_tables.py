"""The client path starts fast: run as a process against a real API server, each remote
command (its answer printed, its exit status 0) leaves none of the heavy modules in
``sys.modules``: no typer or click, no pydantic, no rich (off a terminal), no yaml (unless ``-o
yaml``), no docker or HTTP library of the server's, and nothing of the layers below the
command line (the database, the Compose models, the loader, the backends, the settings
model). No timing is asserted: this pins the imports the start-up rests on."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers.remote import ADMIN_TOKEN, Cli, stack_folder

PROBE = """
import sys
sys.argv = ["stackctl", *{args!r}]
from controller.cli import main
code = 0
try:
    main()
except SystemExit as e:
    code = e.code
heavy = [m for m in sys.modules if m.split(".")[0] in {top!r} or m.startswith({below!r})]
sys.stderr.write(f"\\nEXIT {{code}} LOADED {{','.join(sorted(heavy))}}\\n")
"""

TOP = (
    "typer", "click", "pydantic", "pydantic_core", "rich", "yaml", "docker", "requests",
    "httpx", "fastapi", "starlette", "paramiko",
)  # fmt: skip
BELOW = (
    "controller.db", "controller.desired", "controller.sources", "controller.backends",
    "controller.config.settings", "controller.web", "controller.daemon", "controller.commands",
    "controller.reconcile", "controller.delivery",
)  # fmt: skip

COMMANDS = [
    ["get", "stacks"],
    ["get", "stacks", "-o", "wide"],
    ["get", "versions", "shop"],
    ["get", "commands", "-o", "json"],
    ["history", "shop"],
    ["describe", "shop"],
    ["audit"],
    ["whoami"],
    ["sync", "shop"],
    ["rollback", "shop"],
    ["apply", "{folder}"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a) for a in COMMANDS])
def test_a_remote_command_loads_no_heavy_module(args, seeded, serve, cli: Cli, tmp_path):
    folder = stack_folder(tmp_path / "manifests", "web", {"image": "busybox"})
    argv = ["--server", serve(), *(a.format(folder=folder) for a in args)]
    code = PROBE.format(args=argv, top=TOP, below=BELOW)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=cli.environ({"STACKCTL_TOKEN": ADMIN_TOKEN}),
        timeout=60,
    )
    marker = result.stderr.rstrip("\n").rpartition("\n")[2]
    assert marker == "EXIT 0 LOADED ", (marker, result.stdout, result.stderr)
    assert result.stdout  # it answered
