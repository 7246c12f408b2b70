"""``stackctl apply``, ``diff`` and ``delete`` end to end on a real engine: a web server with a
healthcheck on 127.0.0.1 and a worker that waits for it to be healthy."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from controller.cli import app

pytestmark = pytest.mark.engine
runner = CliRunner()


def write_manifest(folder: Path, *, name: str, image: str, port: int, level: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {
        "apiVersion": "stackctl/v1",
        "kind": "Stack",
        "metadata": {"name": name},
        "spec": {"compose": {"services": {
            "web": {
                "image": image,
                "command": ["httpd", "-f", "-p", "8080", "-h", "/www"],
                "ports": [f"127.0.0.1:{port}:8080"],
                "environment": {"LOG_LEVEL": level},
                "init": True,
                "healthcheck": {
                    "test": ["CMD", "timeout", "2", "wget", "-q", "-O-", "http://127.0.0.1:8080/"],
                    "interval": "1s",
                    "retries": 5,
                },
            },
            "worker": {
                "image": image,
                "command": ["sh", "-c", "while true; do wget -q -O- http://web:8080/ >/dev/null;"
                            " sleep 1; done"],
                "init": True,
                "depends_on": {"web": {"condition": "service_healthy"}},
            },
        }}},
    }
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(manifest))


def fetch(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
        return response.read().decode()


def stackctl(*args: str):
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.mark.slow
def test_apply_fetch_change_reapply_diff_delete(tmp_path, engine_janitor, test_images, free_port):
    name = engine_janitor.project("site")
    db = str(tmp_path / "stackctl.db")
    manifests = tmp_path / "manifests"
    write_manifest(manifests, name=name, image=test_images.v1, port=free_port, level="info")

    code, out = stackctl("apply", str(manifests), "--db", db)
    assert code == 0, out
    assert f"{name}: recorded v1" in out
    assert f"create {name}-web-1: new service" in out
    assert "wait web: worker depends on it (service_healthy)" in out
    assert f"{name}: converged" in out
    assert "stackctl test image 1" in fetch(free_port)

    code, out = stackctl("apply", str(manifests), "--db", db)
    assert code == 0, out
    assert f"{name}: unchanged (v1)" in out
    assert "in sync, nothing to do" in out

    code, out = stackctl("diff", str(manifests), "--db", db)
    assert (code, out.strip()) == (0, f"{name}: no differences")

    write_manifest(manifests, name=name, image=test_images.v2, port=free_port, level="debug")
    code, out = stackctl("diff", str(manifests), "--db", db)
    assert code == 1, out
    assert f"recreate {name}-web-1" in out and f"recreate {name}-worker-1" in out

    code, out = stackctl("apply", str(manifests), "--db", db)
    assert code == 0, out
    assert f"{name}: recorded v2" in out
    assert "stackctl test image 2" in fetch(free_port)

    code, out = stackctl("diff", name, "--db", db)
    assert code == 0, out

    code, out = stackctl("delete", name, "--db", db)
    assert code == 0, out
    assert f"remove {name}-worker-1: stack deleted" in out
    assert out.index(f"remove {name}-worker-1") < out.index(f"remove {name}-web-1")
    code, out = stackctl("diff", name, "--db", db)
    assert code == 1, out


def test_bad_input_exits_with_clear_errors(tmp_path, engine_janitor):
    db = str(tmp_path / "stackctl.db")
    code, out = stackctl("apply", str(tmp_path / "nowhere"), "--db", db)
    assert code == 2 and "no such file or directory" in out
    code, out = stackctl("delete", "ghost", "--db", db)
    assert code == 1 and "no database" in out
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.yaml").write_text("kind: Stack\nmetadata: {name: x}\nspec: {compose: [1]}\n")
    code, out = stackctl("apply", str(broken), "--db", db)
    assert code == 1
    assert "x.yaml:" in out
    code, out = stackctl("diff", str(broken), "--db", db)
    assert code == 2


def test_unreachable_engine_is_one_clear_line(tmp_path, monkeypatch, engine_janitor, test_images):
    manifests = tmp_path / "manifests"
    write_manifest(manifests, name=engine_janitor.project("x"), image=test_images.v1, port=1,
                   level="info")
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    code, out = stackctl("apply", str(manifests), "--db", str(tmp_path / "s.db"))
    assert code == 1
    assert "engine unreachable" in out or "connecting to the Docker engine" in out
    assert "Traceback" not in out
