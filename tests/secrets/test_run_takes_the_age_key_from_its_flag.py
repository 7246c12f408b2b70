"""``stackctl run --sops-age-key-file KEY``: the controller, with no SOPS variable in its
environment, decrypts with the key it was given (the loader's check and the runtime's at
apply); a key file that does not exist is a usage error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers.controller_process import ControllerProcess, wait_for

from controller.sources.secrets.sops import KEY_FILE_VARIABLE

pytestmark = [pytest.mark.engine, pytest.mark.slow]


def test_the_flag_names_the_key(tmp_path, age, encrypt, engine_janitor, test_images, docker_client,
                                monkeypatch):
    root = tmp_path / "manifests"
    (root / "shop").mkdir(parents=True)
    name = engine_janitor.project("sealed")
    (root / "shop" / "app.env").write_text("API_TOKEN=plain-4c1d\n")
    encrypt(root / "shop" / "app.env", "dotenv")
    (root / "shop" / "compose.yaml").write_text(yaml.safe_dump({"name": name, "services": {
        "web": {"image": test_images.v1, "pull_policy": "never", "command": ["sleep", "3600"],
                "env_file": ["app.env"]}}}))
    monkeypatch.delenv(KEY_FILE_VARIABLE)  # the subprocess has only the flag
    proc = ControllerProcess(root, tmp_path / "stackctl.db",
                             extra=("--no-api", "--sops-age-key-file", str(age.key_file)))
    proc.start()
    try:
        def applied() -> bool:
            with proc.db() as db:
                stack = db.stacks.get(name)
                return bool(stack and stack.applied_version == "v1")

        wait_for(applied, what="the encrypted stack applied", timeout=60)
        env = docker_client.containers.get(f"{name}-web-1").attrs["Config"]["Env"]
        assert "API_TOKEN=plain-4c1d" in env
    finally:
        proc.stop()
    assert b"plain-4c1d" not in (tmp_path / "stackctl.db").read_bytes()


def test_a_missing_key_file_is_a_usage_error(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-m", "controller", "run", "--no-api", "--db", str(tmp_path / "s.db"),
         "--manifests", str(tmp_path), "--sops-age-key-file", str(tmp_path / "absent.key")],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert done.returncode == 2
    assert "absent.key: no such file" in done.stderr
    assert not (tmp_path / "s.db").exists()
