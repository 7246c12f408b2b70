"""A one-shot command imports only what it uses (issue 27: a CLI that answers like Compose v2):
run as a process (not on a terminal, no ``STACKCTL_*`` setting but the database), each command
below leaves none of its forbidden modules in ``sys.modules``. No timing is asserted: this pins
the import discipline that the start-up figures of ``bench/cli_startup.py`` rest on.

- ``--version``, a plain ``get stacks``, ``get versions STACK`` and ``history STACK``
  (``cli/quick.py``): no typer, pydantic, docker, requests, yaml or rich.
- the other reads of the database: no docker client (docker, requests), no settings model
  (pydantic_settings), no manifest loader, no rich.
- the commands that ask the engine (here none answers: they fail at the ping, having imported
  what they use) and ``validate``/``diff``/``apply``: no settings model, no rich, and paramiko
  only as the stand-in docker-py imports (``controller/backends/__init__.py``); ``ps``, ``logs``,
  ``describe`` and ``version`` no manifest loader either.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import sys
sys.argv = ["stackctl", *{args!r}]
from controller.cli import main
try:
    main()
except SystemExit:
    pass
finally:
    watched = {watched!r}
    sys.stderr.write("\\nLOADED " + ",".join(m for m in watched if m in sys.modules) + "\\n")
"""

QUICK = {"typer", "pydantic", "docker", "requests", "yaml", "rich"}
READS = {"docker", "requests", "pydantic_settings", "controller.sources.loader.loader", "rich"}
ENGINE = {"pydantic_settings", "rich", "paramiko.transport", "controller.sources.loader.loader"}
MANIFESTS = {"pydantic_settings", "rich", "paramiko.transport"}

CASES = [
    (["--version"], QUICK),
    (["get", "stacks", "--db", "{db}"], QUICK),
    (["history", "shop", "--db", "{db}"], QUICK),
    (["get", "versions", "shop", "--db", "{db}"], QUICK),
    (["get", "versions", "shop", "-o", "json", "--db", "{db}"], READS),
    (["get", "commands", "--db", "{db}"], READS),
    (["history", "shop", "-o", "json", "--db", "{db}"], READS),
    (["describe", "command", "1", "--db", "{db}"], READS),
    (["ps", "shop", "--db", "{db}"], ENGINE),
    (["logs", "shop", "--tail", "5", "--db", "{db}"], ENGINE),
    (["describe", "shop", "--db", "{db}"], ENGINE),
    (["version"], ENGINE),
    (["validate", "{manifests}"], MANIFESTS),
    (["diff", "{manifests}", "--db", "{db}"], MANIFESTS),
    (["apply", "{manifests}", "--db", "{db}"], MANIFESTS),
]


@pytest.mark.parametrize(("args", "forbidden"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_a_command_leaves_its_forbidden_modules_unloaded(
    args, forbidden, seeded, db_path, tmp_path
):
    manifests = tmp_path / "manifests-shop-stackctl-test_busybox_1-0"  # the seed's shop v1
    args = [a.format(db=db_path, manifests=manifests) for a in args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACKCTL_")}
    env.update(STACKCTL_DB=str(db_path), COLUMNS="100")
    code = PROBE.format(args=args, watched=sorted(forbidden))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    marker = result.stderr.rstrip("\n").rpartition("\n")[2]
    assert marker.startswith("LOADED "), result.stderr
    assert marker.removeprefix("LOADED ") == "", (marker, result.stdout, result.stderr)
