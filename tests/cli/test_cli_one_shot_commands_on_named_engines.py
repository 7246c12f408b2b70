"""``stackctl apply``, ``diff``, ``ps``, ``logs`` and ``delete`` given ``--engines FILE`` act on
the engine the stack targets, for real: a second dockerd over TLS (``tls_engine``) and a
single-node swarm (``swarm_engine``). A changed image shows in ``diff`` as the planner of the
engine's kind says it (a recreate on Docker, ``update_service ...: image changed`` on Swarm),
``apply`` (its in-process worker) converges there, and ``delete`` removes what the test made."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from controller.cli import app

pytestmark = [pytest.mark.engine, pytest.mark.slow]

SLEEPER = {"command": ["sh", "-c", "echo hello-from-$$HOSTNAME; exec sleep 3600"], "init": True}


@pytest.fixture(autouse=True)
def no_engines_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STACKCTL_ENGINES", raising=False)


def engines_file(tmp_path: Path, engine: Any, **fields: Any) -> Path:
    path = tmp_path / "engines.yaml"
    tls = {"ca": str(engine.ca), "cert": str(engine.cert), "key": str(engine.key)}
    path.write_text(
        yaml.safe_dump({"engines": {"far": {"host": engine.host, "tls": tls, **fields}}})
    )
    return path


def manifest(folder: Path, name: str, service: dict[str, Any]) -> Path:
    """``name``'s manifest (one service ``web``, targeting ``far``) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "apiVersion": "stackctl/v1",
        "kind": "Stack",
        "metadata": {"name": name},
        "spec": {"compose": {"services": {"web": service}}, "target": {"engine": "far"}},
    }
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(document))
    return folder


def stackctl(*args: str, db: Path, code: int) -> str:
    result = CliRunner().invoke(app, [*args, "--db", str(db)])
    assert result.exit_code == code, result.output
    return result.output


def test_on_a_tls_engine_apply_diff_ps_logs_and_delete_act_there(
    tls_engine: Any, docker_client: Any, tmp_path: Path, test_images: Any
) -> None:
    name, db = f"oneshot{uuid.uuid4().hex[:8]}", tmp_path / "stackctl.db"
    engines = str(engines_file(tmp_path, tls_engine))
    project = {"label": [f"com.docker.compose.project={name}"]}
    far = tls_engine.client()
    try:
        v1 = manifest(tmp_path / "v1", name, {"image": test_images.v1, **SLEEPER})
        out = stackctl("apply", str(v1), "--engines", engines, db=db, code=0)
        assert f"{name}: converged" in out
        [container] = far.containers.list(filters=project)
        assert container.image.tags == [test_images.v1]
        assert docker_client.containers.list(all=True, filters=project) == []  # not on local

        v2 = manifest(tmp_path / "v2", name, {"image": test_images.v2, **SLEEPER})
        out = stackctl("diff", str(v2), "--engines", engines, db=db, code=1)
        [step] = [line for line in out.splitlines() if line.startswith(f"{name}: recreate ")]
        assert "web" in step and "image" in step  # observed there: locally it would be a create

        out = stackctl("ps", name, "--engines", engines, db=db, code=0)
        [row] = [line.split() for line in out.splitlines()[1:]]
        assert row[:3] == [container.name, "web", "running"]
        out = stackctl("logs", name, "--engines", engines, db=db, code=0)
        assert f"{container.name} | hello-from-" in out
    finally:
        out = stackctl("delete", name, "--engines", engines, db=db, code=0)
        assert f"{name}: deleted" in out
        assert far.containers.list(all=True, filters=project) == []
        far.close()


def test_on_a_swarm_apply_converges_diff_names_the_update_and_ps_shows_services(
    swarm_engine: Any, tmp_path: Path, test_images: Any
) -> None:
    name, db = f"oneshot{uuid.uuid4().hex[:8]}", tmp_path / "stackctl.db"
    engines = str(engines_file(tmp_path, swarm_engine, kind="swarm"))
    stack = {"label": [f"com.docker.stack.namespace={name}"]}
    swarm = swarm_engine.client()
    service = {
        "command": ["sh", "-c", "echo swarm says hello; exec sleep 3600"],
        "init": True,
        "deploy": {"endpoint_mode": "dnsrr", "replicas": 2},
    }
    try:
        v1 = manifest(tmp_path / "v1", name, {"image": test_images.v1, **service})
        assert f"{name}: converged" in stackctl(
            "apply", str(v1), "--engines", engines, db=db, code=0
        )
        [web] = swarm.services.list(filters=stack)
        assert web.name == f"{name}_web"

        v2 = manifest(tmp_path / "v2", name, {"image": test_images.v2, **service})
        out = stackctl("diff", str(v2), "--engines", engines, db=db, code=1)
        assert f"{name}: update_service {name}_web: image changed" in out
        assert "recreate" not in out
        out = stackctl("apply", str(v2), "--wait", "--engines", engines, db=db, code=0)
        assert f"{name}: converged" in out
        out = stackctl("diff", str(v2), "--engines", engines, db=db, code=0)
        assert f"{name}: no differences" in out

        out = stackctl("ps", name, "--engines", engines, db=db, code=0)
        [row] = [line.split() for line in out.splitlines() if line.strip().startswith("web ")]
        assert row[:4] == ["web", "replicated", "2/2", test_images.v2]
        out = stackctl("logs", name, "--engines", engines, db=db, code=0)
        said = [line for line in out.splitlines() if line.endswith("swarm says hello")]
        assert said and all(line.startswith(f"{name}_web | ") for line in said), out

        # No controller running: rollback --wait runs here, on the swarm the stack targets.
        out = stackctl("rollback", name, "--wait", "--engines", engines, db=db, code=0)
        assert "no controller is running; running it here" in out
        [web] = swarm.services.list(filters=stack)
        assert web.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == test_images.v1
    finally:
        out = stackctl("delete", name, "--engines", engines, db=db, code=0)
        assert f"{name}: deleted" in out
        assert swarm.services.list(filters=stack) == []
        swarm.close()
