"""Stacks, versions, commands, logs and events in a database, as the controller leaves them.

``seed`` makes two stacks: ``shop`` (v1 applied, v2 applied and current, one RECONCILE done,
one APPLY failed, a ManifestInvalid event) and ``blog`` (v1 pending, one APPLY pending).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from controller.db import Database
from controller.desired import DesiredStack
from controller.models import (
    Command,
    CommandType,
    Event,
    HealthStatus,
    LogLevel,
    SyncStatus,
    VersionStatus,
)
from controller.sources.loader import load_path
from controller.sources.versions import record_version

SLEEPER = {"command": ["sleep", "3600"], "init": True}


def write_manifest(folder: Path, name: str, services: dict[str, Any]) -> Path:
    """A Stack manifest ``folder/name.yaml`` with an inline compose document."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {
        "apiVersion": "stackctl/v1",
        "kind": "Stack",
        "metadata": {"name": name},
        "spec": {"compose": {"services": services}},
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(manifest))
    return path


def desired(tmp: Path, name: str, image: str, **env: str) -> DesiredStack:
    folder = tmp / f"manifests-{name}-{image.replace('/', '_').replace(':', '_')}-{len(env)}"
    service = {"image": image, **SLEEPER, **({"environment": env} if env else {})}
    write_manifest(folder, name, {"web": service})
    result = load_path(folder)
    assert not result.errors, [e.render() for e in result.errors]
    return result.stacks[name]


def record(db: Database, tmp: Path, name: str, image: str, *, applied: bool, **env: str) -> str:
    version = record_version(db, desired(tmp, name, image, **env), root=tmp)
    assert version is not None and version.version is not None
    if applied:
        mark_applied(db, name, version.version)
    return version.version


def mark_applied(db: Database, name: str, version: str) -> None:
    """``version`` of stack ``name`` applied, and the stack Synced and Healthy."""
    db.stack_versions.set_status(name, version, VersionStatus.APPLIED)
    db.stacks.update(
        name,
        applied_version=version,
        sync_status=SyncStatus.SYNCED,
        health_status=HealthStatus.HEALTHY,
    )


def finish(db: Database, command: Command, *, error: str | None = None) -> Command:
    """Claim ``command`` (it must be the next runnable one) and end it DONE or FAILED."""
    claimed = db.commands.claim(worker_id="seed")
    assert claimed is not None and claimed.command_id == command.command_id
    db.command_logs.add(claimed.command_id, LogLevel.INFO, f"{command.type} started")
    if error is None:
        db.command_logs.add(claimed.command_id, LogLevel.INFO, "in sync, nothing to do")
        return db.commands.complete(claimed.command_id, worker_id="seed")
    db.command_logs.add(claimed.command_id, LogLevel.ERROR, error)
    return db.commands.fail(claimed.command_id, error=error, worker_id="seed")


@dataclass(frozen=True)
class Seeded:
    done: Command
    failed: Command
    pending: Command


def seed(db: Database, tmp: Path) -> Seeded:
    record(db, tmp, "shop", "stackctl-test/busybox:1", applied=True)
    record(db, tmp, "shop", "stackctl-test/busybox:2", applied=True)
    done = finish(db, db.commands.enqueue(Command(stack_id="shop", type=CommandType.RECONCILE)))
    failed = finish(
        db,
        db.commands.enqueue(
            Command(
                stack_id="shop", type=CommandType.APPLY_STACK_VERSION, payload={"version": "v2"}
            )
        ),
        error="port 8080 is already allocated",
    )
    record(db, tmp, "blog", "stackctl-test/busybox:1", applied=False)
    pending = db.commands.enqueue(
        Command(stack_id="blog", type=CommandType.APPLY_STACK_VERSION, payload={"version": "v1"})
    )
    db.events.add(
        Event(
            stack_id="shop",
            level=LogLevel.ERROR,
            reason="ManifestInvalid",
            message="shop.yaml:3: services.web.ports[0]: not a port",
        )
    )
    db.events.add(Event(reason="ControllerStarted", message="controller started"))
    return Seeded(done=done, failed=failed, pending=pending)
