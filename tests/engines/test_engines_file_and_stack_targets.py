"""Named engines: the ``--engines`` file is read with errors that name the file, the key and
the problem; a Stack's ``spec.target.engine`` is desired state (digested when it names another
engine than ``local``, so every existing digest stays as it was) and survives recording; the
runtime knows which engines exist and says so for one that does not."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from helpers.stacks import desired_stack

from controller.backends.docker import Engine, EngineBackend
from controller.backends.engines import Engines
from controller.db import Database
from controller.desired.engine_spec import EngineSpec
from controller.models.errors import ManifestError, PermanentError
from controller.sources.loader import load_path
from controller.sources.loader.engines_file import load_engines
from controller.sources.versions import load_desired, record_version, version_engine

COMPOSE = {"services": {"web": {"image": "i:1"}}}
TLS = "tls: {ca: ca.pem, cert: cert.pem, key: key.pem}"


def write(folder: Path, text: str) -> Path:
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (folder / name).write_text("x")
    path = folder / "engines.yaml"
    path.write_text(text)
    return path


def test_a_good_file_declares_its_engines_and_local(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "engines:\n"
        "  lab: {host: 'unix:///run/lab.sock'}\n"
        f"  edge-1: {{host: 'tcp://127.0.0.1:2376', {TLS}}}\n",
    )
    engines = load_engines(path)
    assert list(engines) == ["local", "lab", "edge-1"]
    edge = engines["edge-1"]
    assert edge.tls is not None and edge.tls.ca == tmp_path / "ca.pem"  # relative to the file
    assert edge.remote and not engines["lab"].remote and not engines["local"].remote
    assert edge.describe() == "edge-1 (tcp://127.0.0.1:2376, TLS)"


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (
            f"engines:\n  edge: {{host: 'tcp://h:1', {TLS.replace('key.pem', 'no.pem')}}}\n",
            "engines.edge.tls.key",
            "no such file",
        ),
        ("engines:\n  Edge: {host: 'tcp://h:1'}\n", "engines.Edge", "lowercase"),
        ("engines:\n  edge: {host: 'http://h:1'}\n", "engines.edge.host", "unix://, tcp://"),
        ("engines:\n  edge: {hots: 'tcp://h:1'}\n", "engines.edge.hots", "Extra inputs"),
        (
            f"engines:\n  edge: {{host: 'unix:///a', {TLS}}}\n",
            "engines.edge",
            "tls is for tcp://",
        ),
        ("engines:\n  edge: {}\n", "engines.edge", "needs a host"),
        ("engines:\n  edge: {host: 'tcp://h:1', kind: vm}\n", "engines.edge.kind", "docker"),
        ("engines: []\n", "engines", "a mapping"),
        ("stacks: {}\n", "stacks", "unknown key"),
    ],
)
def test_a_bad_file_names_the_file_the_key_and_the_problem(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ManifestError) as caught:
        load_engines(path)
    assert caught.value.file == str(path)
    assert caught.value.path == key
    assert problem in caught.value.message


def test_invalid_yaml_has_a_line(tmp_path: Path) -> None:
    path = write(tmp_path, "engines:\n  edge: {host: [\n")
    with pytest.raises(ManifestError) as caught:
        load_engines(path)
    assert caught.value.line is not None and "invalid YAML" in caught.value.message


def test_the_target_is_digested_only_when_it_names_another_engine(tmp_path: Path) -> None:
    plain = desired_stack(tmp_path / "a", "shop", COMPOSE)
    local = desired_stack(tmp_path / "b", "shop", COMPOSE, target={"engine": "local"})
    lab = desired_stack(tmp_path / "c", "shop", COMPOSE, target={"engine": "lab"})
    assert plain.engine == local.engine == "local"
    assert lab.engine == "lab"
    assert plain.digest == local.digest  # saying the default changes nothing
    assert lab.digest != plain.digest  # moving is a change of desired state


def test_the_target_survives_recording(tmp_path: Path) -> None:
    desired = desired_stack(tmp_path, "shop", COMPOSE, target={"engine": "lab"})
    with Database(db_path=tmp_path / "s.db") as db:
        version = record_version(db, desired, root=tmp_path)
        assert version is not None
        assert version_engine(version) == "lab"
        back = load_desired(db, version)
    assert back.engine == "lab" and back.digest == desired.digest


def test_a_bad_target_names_its_key(tmp_path: Path) -> None:
    manifest = {
        "apiVersion": "stackctl/v1",
        "kind": "Stack",
        "metadata": {"name": "shop"},
        "spec": {"compose": COMPOSE, "target": {"engine": "Not Valid"}},
    }
    (tmp_path / "shop.yaml").write_text(yaml.safe_dump(manifest))
    errors = [e.render() for e in load_path(tmp_path).errors]
    assert any("spec.target.engine" in e and "lowercase" in e for e in errors), errors


def test_the_runtime_knows_its_engines() -> None:
    engines = Engines({"lab": EngineSpec(name="lab", host="unix:///run/lab.sock")})
    assert engines.names() == ["local", "lab"]
    assert isinstance(engines.get("lab"), EngineBackend)
    assert engines.get("lab").spec.host == "unix:///run/lab.sock"
    with pytest.raises(PermanentError, match=r"engine 'edge' is not declared .*local, lab"):
        engines.get("edge")
    mine = Engine()
    assert Engines.of(mine).local is mine
