"""``stackctl validate`` checks each stack against the engine it targets, as the reconciler does
before anything runs: keys a Swarm cannot carry out (``--engines`` declaring it ``kind:
swarm``), Swarm-only keys on a Docker engine, an undeclared target; each problem one line
naming the file and the key, the stack not OK, exit 1. Without ``--engines`` a stack on another
engine than ``local`` is not checked, and a warning says so."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml


def manifest(folder: Path, name: str, service: dict, **spec: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    document = {
        "apiVersion": "stackctl/v1",
        "kind": "Stack",
        "metadata": {"name": name},
        "spec": {"compose": {"services": {"web": service}}, **spec},
    }
    path.write_text(yaml.safe_dump(document))
    return path


def engines_file(tmp_path: Path) -> Path:
    path = tmp_path / "engines.yaml"
    path.write_text(
        yaml.safe_dump({"engines": {"prod": {"kind": "swarm", "host": "tcp://mgr:2376"}}})
    )
    return path


def validate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "controller", "validate", *args], capture_output=True, text=True
    )


def test_a_swarm_stack_with_container_name_is_refused_by_file_and_key(tmp_path: Path) -> None:
    folder = tmp_path / "manifests"
    manifest(
        folder, "shop", {"image": "web:1", "container_name": "web1"}, target={"engine": "prod"}
    )
    manifest(folder, "ok", {"image": "web:1"}, target={"engine": "prod"})
    done = validate(str(folder), "--engines", str(engines_file(tmp_path)))
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert (
        f"{folder / 'shop.yaml'}: services.web.container_name: not carried out on a Swarm engine:"
        " a Swarm names its tasks' containers itself"
    ) in lines
    assert not any(line.startswith("OK shop ") for line in lines)
    assert any(line.startswith("OK ok ") for line in lines)

    data = json.loads(
        validate(str(folder), "-o", "json", "--engines", str(engines_file(tmp_path))).stdout
    )
    shop = next(e for e in data if e["stack"] == "shop")
    assert shop["valid"] is False and len(shop["target_errors"]) == 1


def test_swarm_only_keys_on_a_docker_engine_and_an_undeclared_target(tmp_path: Path) -> None:
    folder = tmp_path / "manifests"
    placement = {"placement": {"constraints": ["node.role == manager"]}}
    manifest(folder, "local1", {"image": "web:1", "deploy": placement})
    manifest(folder, "lost", {"image": "web:1"}, target={"engine": "nowhere"})
    done = validate(str(folder), "--engines", str(engines_file(tmp_path)))
    assert done.returncode == 1
    assert (
        f"{folder / 'local1.yaml'}: services.web.deploy.placement: only a Swarm engine carries it"
        " out (this stack runs on engine 'local', a Docker engine)"
    ) in done.stdout
    assert (
        f"{folder / 'lost.yaml'}: spec.target.engine: 'nowhere' is not declared"
        " (declared: local, prod)"
    ) in done.stdout


def test_without_engines_another_target_is_not_checked_and_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "manifests"
    manifest(
        folder, "shop", {"image": "web:1", "container_name": "web1"}, target={"engine": "prod"}
    )
    done = validate(str(folder))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("OK shop ")
    assert (
        "targets engine 'prod': give --engines FILE to check it against that engine" in done.stderr
    )
