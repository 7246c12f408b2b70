"""A plain ``stackctl validate PATH...``, ``diff PATH`` and ``apply PATH`` are answered before
typer is imported (``cli/quick_files.py``, running the bodies the typer commands run): for each
command line below, the process prints exactly what the typer command prints (stdout, stderr,
exit status; durations of the log lines aside); the plain ones are answered without typer, the
others (another option, a glued or repeated one, help, a bad ``-o``, a bad engines file) fall to
typer. ``validate`` asks no engine; ``apply`` and ``diff`` do (engine tests)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml

PROBE = """
import sys
sys.argv = ["stackctl", *{args!r}]
if {typer_only!r}:
    import controller.cli.quick_files
    controller.cli.quick_files.answer_files = lambda args: None
from controller.cli import main
try:
    main()
finally:
    sys.stderr.write("\\nLOADED typer\\n" if "typer" in sys.modules else "\\nNOTHING\\n")
"""

VALIDATE_QUICK = [
    ["validate", "{ok}"],
    ["validate", "{ok}", "{bad}"],
    ["validate", "{ok}", "-o", "json"],
    ["-o", "json", "validate", "{ok}", "{bad}"],
    ["-o", "json", "validate", "{ok}", "-o", "text"],
    ["--db", "{tmp}/x.db", "validate", "{ok}"],
    ["validate", "{ok}", "{tmp}/missing"],
    ["validate", "{tmp}/manifests-nowhere/file.yaml"],
]
VALIDATE_TYPER = [
    ["validate", "{ok}", "-o", "yaml"],
    ["-o", "wide", "validate", "{ok}"],
    ["validate", "{ok}", "--db", "{tmp}/x.db"],
    ["validate", "{ok}", "--output=json"],
    ["validate", "{ok}", "-o", "json", "-o", "text"],
    ["validate", "--help"],
    ["validate", "{ok}", "--engines", "{engines}"],
]


def run(args: list[str], *, typer_only: bool, env: dict[str, str], cwd: str):
    code = PROBE.format(args=args, typer_only=typer_only)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, cwd=cwd
    )
    stderr, _, marker = result.stderr.rstrip("\n").rpartition("\n")
    stdout = re.sub(r"\d+\.\d+s\b", "N.NNs", result.stdout)  # a log line's duration
    return (result.returncode, stdout, re.sub(r"\d+\.\d+s\b", "N.NNs", stderr)), marker


def manifest(name: str, image: str) -> str:
    service = {"image": image, "command": ["sleep", "3600"], "init": True}
    body = {"compose": {"services": {"app": service}}}
    head = {"apiVersion": "stackctl/v1", "kind": "Stack", "metadata": {"name": name}}
    return yaml.safe_dump({**head, "spec": body})


@pytest.fixture
def folders(tmp_path):
    """``ok``: a folder with a valid stack; ``bad``: one whose manifest has an error; an
    engines file."""
    ok, bad = tmp_path / "ok", tmp_path / "bad"
    ok.mkdir()
    bad.mkdir()
    (ok / "app.yaml").write_text(manifest("quickfiles", "stackctl-test/busybox:1"))
    (bad / "app.yaml").write_text(manifest("quickbad", "x").replace("init: true", "init: 3"))
    engines = tmp_path / "engines.yaml"
    engines.write_text(yaml.safe_dump({"engines": {"edge": {"host": "tcp://127.0.0.1:9"}}}))
    return {"ok": ok, "bad": bad, "engines": engines}


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACKCTL_")}
    env.update(COLUMNS="200", **extra)
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "PYDANTIC_DISABLE_PLUGINS"):
        env.pop(name, None)
    return env


def both_ways(args, quick, *, env, cwd, values):
    args = [a.format(**values) for a in args]
    ours, marker = run(args, typer_only=False, env=env, cwd=cwd)
    theirs, _ = run(args, typer_only=True, env=env, cwd=cwd)
    assert ours == theirs
    assert (marker == "NOTHING") is quick, (marker, ours)
    return ours


@pytest.mark.parametrize(
    ("args", "quick"),
    [(a, True) for a in VALIDATE_QUICK] + [(a, False) for a in VALIDATE_TYPER],
    ids=lambda a: " ".join(a) if isinstance(a, list) else str(a),
)
def test_validate_prints_as_typer(args, quick, folders, tmp_path):
    values = {"tmp": tmp_path, **folders}
    both_ways(args, quick, env=environment(), cwd=str(tmp_path), values=values)


def test_validate_relative_paths_and_the_default_folder(folders, tmp_path):
    """Paths shown as given, from where the command ran; no PATH: ./manifests (missing)."""
    for args in (["validate", "ok"], ["validate"], ["validate", "ok/app.yaml", "bad"]):
        both_ways(args, True, env=environment(), cwd=str(tmp_path), values={})


def test_the_engines_file_of_the_environment(folders, tmp_path):
    """``STACKCTL_ENGINES``: a good file is read here; one typer refuses is typer's to say."""
    values = {"tmp": tmp_path, **folders}
    good = environment(STACKCTL_ENGINES=str(folders["engines"]))
    both_ways(["validate", "{ok}"], True, env=good, cwd=str(tmp_path), values=values)
    (tmp_path / "broken.yaml").write_text("engines: [1]\n")
    broken = environment(STACKCTL_ENGINES=str(tmp_path / "broken.yaml"))
    ours = both_ways(["validate", "{ok}"], False, env=broken, cwd=str(tmp_path), values=values)
    assert ours[0] == 2
    other = environment(STACKCTL_TIMEOUT="5")  # a setting: typer's path checks it
    both_ways(["validate", "{ok}"], False, env=other, cwd=str(tmp_path), values=values)


ENGINE_QUICK = [
    ["--db", "{db}", "apply", "{stack}"],  # unchanged: a RECONCILE, in sync
    ["apply", "{stack}", "--db", "{db}"],
    ["-o", "json", "apply", "{stack}", "--db", "{db}"],
    ["--db", "{db}", "diff", "{stack}"],
    ["diff", "{stack}", "--db", "{db}"],
    ["--db", "{db}", "diff", "{drift}"],  # differences: exit 1
    ["--db", "{db}", "diff", "{bad}"],  # load errors: exit 2
    ["--db", "{db}", "diff", "never-recorded"],
    ["--db", "{db}", "apply", "{bad}"],
    ["--db", "{db}", "apply", "{tmp}/missing"],
]
ENGINE_TYPER = [
    ["--db", "{db}", "apply", "{stack}", "--wait"],
    ["--db", "{db}", "apply", "{stack}", "--timeout", "30"],
    ["--db", "{db}", "diff", "{stack}", "--adopt"],
    ["--db", "{db}", "diff", "{stack}", "{stack}"],
    ["--db", "{db}", "apply", "--db={db}", "{stack}"],
]


@pytest.fixture
def applied(tmp_path, folders, engine_janitor, test_images):
    """The test's stack applied once (its folder ``stack``); ``drift``: the same stack with
    another image."""
    name = engine_janitor.project()
    stack, drift = tmp_path / "stack", tmp_path / "drift"
    for folder, image in ((stack, test_images.v1), (drift, test_images.v2)):
        folder.mkdir()
        (folder / "app.yaml").write_text(manifest(name, image))
    db = tmp_path / "stackctl.db"
    result = subprocess.run(
        [sys.executable, "-m", "controller", "--db", str(db), "apply", str(stack)],
        capture_output=True,
        text=True,
        env=environment(),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return {"tmp": tmp_path, "db": db, "stack": stack, "drift": drift, **folders}


@pytest.mark.parametrize(
    ("args", "quick"),
    [(a, True) for a in ENGINE_QUICK] + [(a, False) for a in ENGINE_TYPER],
    ids=lambda a: " ".join(a) if isinstance(a, list) else str(a),
)
def test_apply_and_diff_print_as_typer(args, quick, applied, tmp_path):
    both_ways(args, quick, env=environment(), cwd=str(tmp_path), values=applied)
