"""The remote command line's tests: a real API server on 127.0.0.1 (``create_app`` served by
``start_server`` in this process, on the test's database), and ``stackctl`` run as a process
with ``--server``, its own HOME and XDG_CONFIG_HOME (the stored tokens are the test's)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ADMIN_TOKEN = "admin-t0ken-for-remote-tests"
AGE = re.compile(r"(?<![\w.:-])\d+[smhd](?![\w.:-])")  # `3s`, `12m`: the AGE column's cells


@dataclass
class Cli:
    """``stackctl`` as a process: ``home`` holds its config; ``env`` is added to a clean
    environment (no ``STACKCTL_*`` of the machine running the tests)."""

    home: Path
    env: dict[str, str] = field(default_factory=dict)

    def environ(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("STACKCTL_")}
        base.update(HOME=str(self.home), XDG_CONFIG_HOME=str(self.home / ".config"))
        base.update(COLUMNS="200", **self.env, **(extra or {}))
        return base

    def run(
        self, *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "controller", *args],
            capture_output=True,
            text=True,
            env=self.environ(env),
            input=stdin,
            timeout=120,
        )


def without_ages(text: str) -> str:
    """``text`` with every age cell (``3s``, ``2m``) as ``AGE``: two runs a second apart
    print the same table."""
    return AGE.sub("AGE", text)


def stack_folder(folder: Path, name: str, service: dict[str, Any], **spec: Any) -> Path:
    """A folder with one Stack manifest ``NAME.yaml`` (one service ``web``)."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {
        "apiVersion": "stackctl/v1",
        "kind": "Stack",
        "metadata": {"name": name},
        "spec": {"compose": {"services": {"web": service}}, **spec},
    }
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(manifest))
    return folder
