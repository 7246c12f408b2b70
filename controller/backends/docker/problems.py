"""What a container engine cannot carry out of a stack (pure): ``unsupported`` names each key
the canonical model can say but docker-py drops or a plain engine has no such thing (more on a
remote engine, whose disk is not the controller's). The reconciler refuses such a stack before
it changes anything (``Backend.problems``); ``stackctl validate`` says the same."""

from __future__ import annotations

from typing import TYPE_CHECKING

from controller.desired import DesiredStack, Service
from controller.desired.compose import FileRef

if TYPE_CHECKING:
    from controller.desired.engine_spec import EngineSpec


def container_problems(desired: DesiredStack, spec: EngineSpec) -> list[str]:
    """What a container engine like ``spec`` cannot carry out (pure): Compose keys it does not
    support (more on a remote engine), and Swarm's own keys. ``Engine.cannot_run`` says it;
    ``stackctl validate`` asks here, without loading docker-py (``engines.cannot_run``)."""
    return [*unsupported(desired, remote=spec.remote), *swarm_only_problems(desired)]


def unsupported(desired: DesiredStack, *, remote: bool = False) -> list[str]:
    """What the canonical model can say but this adapter cannot carry out (docker-py drops it,
    or a plain engine has no such thing). The reconciler refuses the stack before it changes
    anything rather than drop these silently. ``remote``: the engine is not on this machine,
    so a bind of a path relative to the manifest (a file here) cannot be carried out, and
    secrets and configs are copied into containers, which ``read_only: true`` forbids."""
    problems = []
    for name, service in sorted(desired.compose.services.items()):
        where = f"services.{name}"
        if remote:
            problems += _remote_problems(desired, where, service)
        if service.healthcheck is not None and service.healthcheck.start_interval is not None:
            problems.append(f"{where}.healthcheck.start_interval is not supported yet")
        for volume in service.volumes:
            if volume.bind is not None and volume.bind.selinux is not None:
                problems.append(
                    f"{where}.volumes ({volume.target}): bind.selinux is not supported yet"
                )
        for kind, refs in (("secrets", service.secrets), ("configs", service.configs)):
            for ref in refs:
                if service.read_only and encrypted(desired, ref, secret=kind == "secrets"):
                    problems.append(
                        f"{where}.{kind} ({ref.source}): an encrypted file is copied into the"
                        " container, which `read_only: true` forbids"
                    )
                if ref.uid is not None or ref.gid is not None or ref.mode is not None:
                    problems.append(
                        f"{where}.{kind} ({ref.source}): uid, gid and mode need"
                        " Swarm; they cannot be set on a mounted file"
                    )
    return problems


def _remote_problems(desired: DesiredStack, where: str, service: Service) -> list[str]:
    problems = [
        f"{where}.volumes ({volume.target}): a bind of {volume.source!r}, relative to the"
        " manifest, needs the engine on this machine; this stack's engine is remote (bind an"
        " absolute path of the engine's host, or use a volume)"
        for volume in service.volumes
        if volume.type == "bind" and volume.root_relative
    ]
    if service.read_only and (service.secrets or service.configs):
        problems.append(
            f"{where}: secrets and configs are copied into the container on a remote engine,"
            " which `read_only: true` forbids"
        )
    return problems


def encrypted(desired: DesiredStack, ref: FileRef, *, secret: bool) -> bool:
    """A SOPS-encrypted file is copied into the container, never mounted (runtime.sealed)."""
    objects = desired.compose.secrets if secret else desired.compose.configs
    definition = objects.get(ref.source)
    return definition is not None and definition.sops is not None


def swarm_only_problems(desired: DesiredStack) -> list[str]:
    """The Swarm-only ``deploy`` keys of a stack on a Docker engine, refused by name: no Docker
    engine carries them out, and dropping them would say the stack runs as declared."""
    problems = []
    for name, service in sorted(desired.compose.services.items()):
        deploy = service.deploy
        if deploy is None:
            continue
        for field in sorted(type(deploy).model_fields):
            value = getattr(deploy, field)
            if value != type(deploy).model_fields[field].get_default(call_default_factory=True):
                problems.append(
                    f"services.{name}.deploy.{field}: only a Swarm engine carries it out"
                    f" (this stack runs on engine {desired.engine!r}, a Docker engine)"
                )
    return problems
