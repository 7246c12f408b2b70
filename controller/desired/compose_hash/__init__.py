"""Docker Compose v2's own config hash of a service (``com.docker.compose.config-hash``).

Compose v2.40.3 (``pkg/compose/hash.go``, compose-go v2.9.1) clears ``build``,
``pull_policy``, ``scale``, ``deploy.replicas``, ``depends_on`` and ``profiles`` of the
service it loaded, marshals the rest with Go's ``encoding/json`` and takes the SHA-256 hex of
those bytes. It compares that hash with the label of each container it finds and recreates the
container when they differ; writing the same hash on our containers is what makes
``docker compose up -d`` leave a stackctl stack alone (and lets stackctl adopt what Compose
made without recreating it).

The service is given as its **Compose view** (``controller.sources.loader.compose_view``):
the service as compose-go normalises it, kept with the version because it depends on how the
file is written (the canonical model does not). Host paths in the view are relative to the
stack's source folder when they were written inside it; they are made absolute here, from the
folder the engine mounts them from, as Compose makes them absolute from its project folder.

Pure functions; nothing here reads files or the environment (a ``~/`` path is expanded as the
engine's host paths are: ``os.path.expanduser``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from controller.desired.compose_hash.gojson import UnknownField, go_duration, marshal_struct

__all__ = ["UnknownField", "compose_config_hash", "go_duration", "service_json"]

# Cleared by Compose before hashing (hash.go): scaling or reordering never recreates.
NOT_HASHED = ("build", "pull_policy", "scale", "depends_on", "profiles", "name", "env_file")


def service_json(view: dict[str, Any], *, base: Path, image: str | None = None) -> str:
    """The exact text Compose hashes for this service. ``image``: the image stackctl runs
    (a pinned or updated reference replaces the one the file names, as it would in the file)."""
    service = {k: v for k, v in view.items() if k not in NOT_HASHED}
    if image is not None:
        service["image"] = image
    deploy = service.get("deploy")
    if isinstance(deploy, dict):
        service["deploy"] = {k: v for k, v in deploy.items() if k != "replicas"}
    return marshal_struct("ServiceConfig", _absolute_paths(service, base=base))


def compose_config_hash(view: dict[str, Any], *, base: Path, image: str | None = None) -> str:
    """SHA-256 hex of ``service_json``: the label Compose v2 writes for this service."""
    return hashlib.sha256(service_json(view, base=base, image=image).encode()).hexdigest()


def _absolute_paths(service: dict[str, Any], *, base: Path) -> dict[str, Any]:
    """The view's folder-relative host paths made absolute from ``base``: bind sources,
    ``extends.file``, ``label_file`` and the paths Compose Watch syncs."""
    out = dict(service)
    if isinstance(out.get("volumes"), list):
        out["volumes"] = [
            {**v, "source": _absolute(v["source"], base)}
            if v.get("type") == "bind" and isinstance(v.get("source"), str)
            else v
            for v in out["volumes"]
        ]
    extends = out.get("extends")
    if isinstance(extends, dict) and isinstance(extends.get("file"), str):
        out["extends"] = {**extends, "file": _absolute(extends["file"], base)}
    if isinstance(out.get("label_file"), list):
        out["label_file"] = [_absolute(p, base) for p in out["label_file"]]
    develop = out.get("develop")
    if isinstance(develop, dict) and isinstance(develop.get("watch"), list):
        watch = [{**w, "path": _absolute(w["path"], base)} for w in develop["watch"]]
        out["develop"] = {**develop, "watch": watch}
    return out


def _absolute(path: str, base: Path) -> str:
    if path.startswith("~"):
        return os.path.expanduser(path)
    if os.path.isabs(path):
        return path
    return os.path.normpath(os.path.join(os.path.abspath(base), path))
