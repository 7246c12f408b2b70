"""A plain ``stackctl describe STACK``, ``logs STACK [SERVICE] [--tail N] [-t]`` and ``version``
on the local engine are answered before typer, pydantic, docker-py and rich are imported
(``cli/quick_describe.py``, ``cli/quick_engine.py``: plain rows, ``GET``s over the engine's unix
socket): for each command line below, the process prints exactly what the typer command prints
(stdout, stderr, exit status); the plain ones load none of those, the others fall to typer.

The stack's containers cover what the quick paths read differently: running ones (from the
list), an exited one (inspected, its exit code), one ``docker compose`` made in a slot (found
by label, inspected), a TTY's raw log beside multiplexed ones, stderr, ANSI escapes (dropped off
a terminal, as click does) and a last line without its newline.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest
import yaml

from controller.db import Database
from controller.models import Command, CommandType, Event
from controller.models.observed import (
    CONFIG_HASH_LABEL,
    MANAGED_LABEL,
    NUMBER_LABEL,
    SERVICE_LABEL,
    VERSION_LABEL,
)
from controller.sources.loader import load_path
from controller.sources.versions import record_version

pytestmark = pytest.mark.engine

PROBE = """
import sys
sys.argv = ["stackctl", *{args!r}]
if {typer_only!r}:
    import controller.cli.quick
    controller.cli.quick.answer_any = lambda args: False
from controller.cli import main
try:
    main()
finally:
    loaded = [m for m in ("typer", "docker", "pydantic", "rich") if m in sys.modules]
    sys.stderr.write("\\nLOADED " + ",".join(loaded) + "\\n" if loaded else "\\nNOTHING\\n")
"""

QUICK = [
    ["describe", "{stack}", "--db", "{db}"],
    ["--db", "{db}", "describe", "{stack}"],
    ["-o", "table", "describe", "{stack}", "--db", "{db}"],
    ["describe", "{stack}", "-o", "table", "--db", "{db}"],
    ["describe", "{empty}", "--db", "{db}"],  # no container: every service missing
    ["logs", "{stack}", "--db", "{db}"],
    ["logs", "{stack}", "web", "--tail", "1", "--db", "{db}"],
    ["logs", "{stack}", "-t", "-n", "2", "--db", "{db}"],
    ["logs", "{stack}", "--timestamps", "--tail", "0", "--db", "{db}"],
    ["logs", "{stack}", "--tail", "007", "--db", "{db}"],
    ["-o", "json", "logs", "{stack}", "--db", "{db}"],  # the root's -o: logs has none
    ["logs", "{stack}", "--db", "{tmp}/missing.db"],  # no database: on local
    ["version"],
    ["version", "-o", "json"],
    ["-o", "table", "version"],
    ["--db", "{db}", "version"],
]

TYPER = [
    ["describe", "{stack}", "-o", "json", "--db", "{db}"],
    ["describe", "{stack}", "-o", "yaml", "--db", "{db}"],
    ["describe", "far", "--db", "{db}"],  # targets an engine the file does not declare
    ["describe", "ghost", "--db", "{db}"],
    ["describe", "{stack}", "--db", "{tmp}/missing.db"],
    ["describe", "{stack}", "--engines", "{engines}", "--db", "{db}"],
    ["describe", "stack", "{stack}", "--db", "{db}"],
    ["describe", "{stack}", "--db={db}"],
    ["logs", "{stack}", "--since", "1h", "--db", "{db}"],
    ["logs", "{stack}", "--tail", "-1", "--db", "{db}"],
    ["logs", "{stack}", "--tail", "x", "--db", "{db}"],
    ["logs", "{stack}", "nosuch", "--db", "{db}"],  # no container: typer's error
    ["logs", "{empty}", "--db", "{db}"],
    ["logs", "far", "--db", "{db}"],
    ["logs", "{stack}", "-o", "json", "--db", "{db}"],  # not an option of logs
    ["logs", "{stack}", "--engines", "{engines}", "--db", "{db}"],
    ["logs", "--db", "{db}"],
    ["version", "-o", "yaml"],
    ["version", "extra"],
    ["version", "--db", "{db}"],  # not an option of version
]

LONG_AGO = "2020-01-01T00:00:00.000000Z"


def record(db, tmp_path, name: str, services: dict, **spec) -> None:
    folder = tmp_path / f"manifests-{name}"
    folder.mkdir()
    manifest = {"apiVersion": "stackctl/v1", "kind": "Stack", "metadata": {"name": name}}
    body = {"compose": {"services": services}, **spec}
    (folder / f"{name}.yaml").write_text(yaml.safe_dump({**manifest, "spec": body}))
    result = load_path(folder)
    assert not result.errors, [e.render() for e in result.errors]
    record_version(db, result.stacks[name], root=folder)


def container(docker_client, janitor, image, stack, service, script, *, tty=False, **labels):
    """A started container of ``stack``'s ``service`` (number 1) running ``script``."""
    made = docker_client.containers.create(
        image,
        ["sh", "-c", script],
        name=f"{stack}-{service}-{labels.pop('number', 1)}",
        labels={**janitor.labels(), SERVICE_LABEL: service, NUMBER_LABEL: "1", **labels},
        tty=tty,
    )
    made.start()
    return made


def wait_for_output(docker_client, names: list[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if all(docker_client.containers.get(n).logs() for n in names):
            return
        time.sleep(0.2)
    raise AssertionError(f"no output from {names}")


def age_everything(db_path) -> None:
    """Every time the commands print far in the past, so that ages do not tick between runs."""
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE stacks SET created_at = ?, updated_at = ?", (LONG_AGO, LONG_AGO))
        conn.execute(
            "UPDATE commands SET created_at = ?, started_at = ?, ended_at = ?",
            (LONG_AGO, LONG_AGO, "2020-01-01T00:00:02.500000Z"),
        )
        conn.execute("UPDATE events SET ts = ?", (LONG_AGO,))


@pytest.fixture
def setting(tmp_path, db_path, engine_janitor, docker_client, test_images):
    """The test's stack (``web`` twice, one a TTY; ``worker`` exited with 3; ``extra`` made by
    ``docker compose``, not desired), ``empty`` with no container, ``far`` on engine
    ``edge``; commands and events; an engines file."""
    stack = engine_janitor.project()
    ours = {MANAGED_LABEL: "true", VERSION_LABEL: "v1"}
    make = [docker_client, engine_janitor, test_images.v1, stack]
    container(*make, "web", "echo out; echo err >&2; printf 'no newline'; sleep 3600", **ours)
    web2 = "echo tty; printf '\\033[31mred\\033[0m\\n'; sleep 3600"
    container(*make, "web", web2, tty=True, number=2, **{**ours, NUMBER_LABEL: "2"})
    container(*make, "worker", "echo bye; exit 3", **ours)
    container(*make, "extra", "echo compose; sleep 3600", **{CONFIG_HASH_LABEL: "abc"})
    names = [f"{stack}-{s}" for s in ("web-1", "web-2", "worker-1", "extra-1")]
    wait_for_output(docker_client, names)
    docker_client.containers.get(f"{stack}-worker-1").wait(timeout=30)
    services = {s: {"image": test_images.v1} for s in ("web", "worker", "gone")}
    empty = engine_janitor.project("empty")
    with Database(db_path=db_path) as db:
        record(db, tmp_path, stack, services)
        record(db, tmp_path, empty, {"web": {"image": test_images.v1}})
        record(db, tmp_path, "far", services, target={"engine": "edge"})
        db.commands.enqueue(Command(stack_id=stack, type=CommandType.RECONCILE))
        db.events.add(Event(stack_id=stack, reason="Applied", message="applied v1 " + "x" * 200))
    age_everything(db_path)
    engines = tmp_path / "engines.yaml"
    engines.write_text(yaml.safe_dump({"engines": {"edge": {"host": "tcp://127.0.0.1:9"}}}))
    return {"stack": stack, "empty": empty, "db": db_path, "engines": engines}


def run(args: list[str], *, typer_only: bool, env: dict[str, str]):
    code = PROBE.format(args=args, typer_only=typer_only)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    stderr, _, marker = result.stderr.rstrip("\n").rpartition("\n")
    return (result.returncode, result.stdout, stderr), marker


def plain_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACKCTL_")}
    env["COLUMNS"] = "200"
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "DOCKER_HOST", "DOCKER_CONTEXT"):
        env.pop(name, None)
    return env


@pytest.mark.parametrize(
    ("args", "quick"),
    [(a, True) for a in QUICK] + [(a, False) for a in TYPER],
    ids=lambda a: " ".join(a) if isinstance(a, list) else str(a),
)
def test_the_same_as_typer_prints(args, quick, setting, tmp_path):
    args = [a.format(tmp=tmp_path, **setting) for a in args]
    ours, marker = run(args, typer_only=False, env=plain_env())
    theirs, _ = run(args, typer_only=True, env=plain_env())
    assert ours == theirs
    assert (marker == "NOTHING") is quick, (marker, ours)
    if quick:
        assert ours[0] == 0 and (ours[1] or "0" in args)  # --tail 0: no line


def test_what_the_quick_paths_print(setting, tmp_path):
    """What the table above compares is the real thing: each container, its state and log."""
    stack, db = setting["stack"], str(setting["db"])
    described_by = run(["describe", stack, "--db", db], typer_only=False, env=plain_env())
    (code, described, _), marker = described_by
    assert code == 0 and marker == "NOTHING"
    assert f"{stack}-worker-1" in described and "exited (3)" in described
    assert f"extra (orphan)   {stack}-extra-1" in described and "gone" in described
    assert "Last commands:" in described and "RECONCILE" in described
    (code, logs, _), _ = run(["logs", stack, "--db", db], typer_only=False, env=plain_env())
    lines = logs.splitlines()
    assert f"{stack}-web-1    | err" in lines and f"{stack}-web-2    | red" in lines
    assert f"{stack}-worker-1 | bye" in lines and f"{stack}-extra-1  | compose" in lines


def test_an_engine_elsewhere_or_a_named_context_is_docker_pys(setting, tmp_path):
    """``DOCKER_HOST`` naming a TCP engine, or a Docker CLI context docker-py would follow:
    typer's path, and its words."""
    config = tmp_path / "docker-config"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"currentContext": "elsewhere"}))
    stack, db = setting["stack"], str(setting["db"])
    for extra in ({"DOCKER_HOST": "tcp://127.0.0.1:9"}, {"DOCKER_CONFIG": str(config)}):
        for args in (["version"], ["logs", stack, "--db", db], ["describe", stack, "--db", db]):
            env = {**plain_env(), **extra}
            ours, marker = run(args, typer_only=False, env=env)
            theirs, _ = run(args, typer_only=True, env=env)
            assert ours == theirs
            assert marker != "NOTHING", (args, extra)
