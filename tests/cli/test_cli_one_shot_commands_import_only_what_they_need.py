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
- ``validate``, ``diff`` and ``apply`` (``UNUSED``): nothing a load of plain ``kind: Stack``
  manifests or their recording never uses (an encrypted ini file's configparser, the
  ``Repository`` kind's models, the database's events, leases, retention...); ``validate`` none
  of ``RUN_UNUSED`` either, nor Compose's config hash. On a real engine, an ``apply`` of an
  unchanged stack (the in-process worker and reconciler included) and a ``diff`` load none of
  ``UNUSED`` and ``RUN_UNUSED`` (failing at the ping, docker-py's error path loads the latter).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

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
# Loaded on first use (issue 27): what apply/diff/validate of plain stacks never use.
UNUSED = {
    "configparser",  # SOPS: an encrypted ini file
    "controller.sources.loader.repository_kind",  # a `kind: Repository` document
    "controller.desired.repository_spec",
    "controller.db.console_sessions",  # Database's repositories a one-shot command never reads
    "controller.db.events",
    "controller.db.git_repositories",
    "controller.db.leases",
    "controller.db.retention",
    "controller.db.stack_table",
    "controller.db.stats",
}
# ... nor a run of the queue that changes nothing: SOPS's program, an image build's scratch
# folder, a container's file archive, the daemon's logging.
RUN_UNUSED = {"subprocess", "shutil", "tarfile", "tempfile", "logging"}
FILES = MANIFESTS | UNUSED
VALIDATE = FILES | RUN_UNUSED | {"controller.desired.compose_hash"}

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
    (["validate", "{manifests}"], VALIDATE),
    (["diff", "{manifests}", "--db", "{db}"], FILES),
    (["apply", "{manifests}", "--db", "{db}"], FILES),
    (["apply", "{manifests}", "--no-wait", "--db", "{db}"], FILES),  # records, queues: typer's
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


def loaded(args, env, watched):
    """The modules of ``watched`` left in ``sys.modules`` by the command ``args``."""
    code = PROBE.format(args=args, watched=sorted(watched))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    marker = result.stderr.rstrip("\n").rpartition("\n")[2]
    assert marker.startswith("LOADED "), result.stderr
    return marker.removeprefix("LOADED "), result


@pytest.mark.parametrize("command", ["apply", "diff"])
def test_apply_and_diff_of_an_unchanged_stack_load_only_what_they_use(
    command, engine_janitor, test_images, tmp_path
):
    """On a real engine, the stack applied once: ``apply`` again (its worker, reconciler and
    rollback watch run, nothing changes) and ``diff`` load none of ``UNUSED`` and
    ``RUN_UNUSED``, nor the settings model or rich."""
    service = {"image": test_images.v1, "command": ["sleep", "3600"], "init": True}
    head = {"apiVersion": "stackctl/v1", "kind": "Stack"}
    stack = {**head, "metadata": {"name": engine_janitor.project()}}
    folder = tmp_path / "stack"
    folder.mkdir()
    (folder / "app.yaml").write_text(
        yaml.safe_dump({**stack, "spec": {"compose": {"services": {"app": service}}}})
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACKCTL_")}
    env.update(STACKCTL_DB=str(tmp_path / "stackctl.db"), COLUMNS="100")
    _, result = loaded(["apply", str(folder)], env, ())
    assert result.returncode == 0, result.stderr
    found, result = loaded([command, str(folder)], env, MANIFESTS | UNUSED | RUN_UNUSED)
    assert result.returncode == 0, result.stderr
    assert found == "", (found, result.stdout, result.stderr)
