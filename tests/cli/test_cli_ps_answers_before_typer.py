"""A plain ``stackctl ps [STACK]`` on the local engine is answered before typer and docker-py
are imported (``cli/quick.py``: one ``GET /containers/json`` over the engine's unix socket,
``backends/docker/plain_api.py``, made into ``ps`` rows by ``backends/docker/summaries.py``): for
each command line below, the process prints exactly what the typer command prints (stdout,
stderr, exit status); the plain ones are answered without typer or docker-py, the others (json,
an engines file, a stack on another engine, an engine that does not answer) fall to typer."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from controller.db import Database
from controller.models.observed import MANAGED_LABEL, NUMBER_LABEL, SERVICE_LABEL, VERSION_LABEL
from controller.sources.loader import load_path
from controller.sources.versions import record_version

PROBE = """
import sys
sys.argv = ["stackctl", *{args!r}]
if {typer_only!r}:
    import controller.cli.quick
    controller.cli.quick.answer_ps = lambda args: False
from controller.cli import main
try:
    main()
finally:
    loaded = [m for m in ("typer", "docker") if m in sys.modules]
    sys.stderr.write("\\nLOADED " + ",".join(loaded) + "\\n" if loaded else "\\nNOTHING\\n")
"""

QUICK = [
    ["ps", "{stack}", "--db", "{db}"],
    ["--db", "{db}", "ps", "{stack}"],
    ["-o", "table", "ps", "{stack}", "--db", "{db}"],
    ["ps", "{stack}", "--db", "{tmp}/missing.db"],  # no database: on local
    ["ps", "{prefix}-unknown", "--db", "{db}"],  # an empty table
]

TYPER = [
    ["ps", "{stack}", "-o", "json", "--db", "{db}"],
    ["ps", "{stack}", "--engines", "{engines}", "--db", "{db}"],
    ["ps", "far", "--engines", "{engines}", "--db", "{db}"],
    ["ps", "far", "--db", "{db}"],  # targets an engine the file does not declare
    ["ps", "{stack}", "{stack}", "--db", "{db}"],
    ["ps", "{stack}", "--db={db}"],
]


@pytest.fixture
def setting(tmp_path, db_path, engine_janitor, docker_client, test_images):
    """A container of the test's stack (``prefix``, two ports published), the stack recorded
    in a database, ``far`` recorded there targeting engine ``edge``, and an engines file."""
    stack = engine_janitor.project()
    labels = {
        **engine_janitor.labels(),
        MANAGED_LABEL: "true",
        SERVICE_LABEL: "web",
        NUMBER_LABEL: "1",
        VERSION_LABEL: "v1",
    }
    docker_client.containers.create(
        test_images.v1, ["sleep", "3600"], name=f"{stack}-web-1", labels=labels
    )
    with Database(db_path=db_path) as db:
        for name, spec in ((stack, {}), ("far", {"target": {"engine": "edge"}})):
            folder = tmp_path / f"manifests-{name}"
            folder.mkdir()
            body = {"compose": {"services": {"web": {"image": test_images.v1}}}, **spec}
            manifest = {"apiVersion": "stackctl/v1", "kind": "Stack", "metadata": {"name": name}}
            (folder / f"{name}.yaml").write_text(yaml.safe_dump({**manifest, "spec": body}))
            result = load_path(folder)
            assert not result.errors, [e.render() for e in result.errors]
            record_version(db, result.stacks[name], root=folder)
    engines = tmp_path / "engines.yaml"
    engines.write_text(yaml.safe_dump({"engines": {"edge": {"host": "tcp://127.0.0.1:9"}}}))
    return {"stack": stack, "prefix": engine_janitor.prefix, "db": db_path, "engines": engines}


def run(args: list[str], *, typer_only: bool, env: dict[str, str]):
    code = PROBE.format(args=args, typer_only=typer_only)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    stderr, _, marker = result.stderr.rstrip("\n").rpartition("\n")
    return (result.returncode, result.stdout, stderr), marker


@pytest.mark.parametrize(
    ("args", "quick"),
    [(a, True) for a in QUICK] + [(a, False) for a in TYPER],
    ids=lambda a: " ".join(a) if isinstance(a, list) else str(a),
)
def test_the_same_as_typer_prints(args, quick, setting, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACKCTL_")}
    env["COLUMNS"] = "200"
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        env.pop(name, None)
    args = [a.format(tmp=tmp_path, **setting) for a in args]
    ours, marker = run(args, typer_only=False, env=env)
    theirs, _ = run(args, typer_only=True, env=env)
    assert ours == theirs
    assert (marker == "NOTHING") is quick, (marker, ours)
    if quick and "unknown" not in " ".join(args):
        assert ours[0] == 0 and f"{setting['stack']}-web-1" in ours[1]


def test_an_engine_elsewhere_is_docker_pys(setting, tmp_path):
    """``DOCKER_HOST`` naming a TCP engine (none answers there): typer's path, and its error."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACKCTL_")}
    env["DOCKER_HOST"] = "tcp://127.0.0.1:9"
    args = ["ps", setting["stack"], "--db", str(setting["db"])]
    ours, marker = run(args, typer_only=False, env=env)
    theirs, _ = run(args, typer_only=True, env=env)
    assert ours == theirs and ours[0] != 0
    assert marker != "NOTHING"
