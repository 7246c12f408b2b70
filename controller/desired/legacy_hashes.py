"""The config-hash labels earlier releases wrote for a service, so an upgrade recreates nothing.

A container carries the ``com.docker.compose.config-hash`` label of the release that created it.
When a later release represents the same service differently (a path written another way, a
hash computed another way), comparing that label with today's hash alone would recreate every
container the day users upgrade, though nothing about them changed. ``legacy_hashes(service,
base=...)`` re-derives, from today's model of the service, every label an earlier release would
have written for it; the planner takes a container whose label is among them as current.

The schemes, oldest first (each names the commit it comes from):

``canonical, root-relative paths`` -- 0.1.0, the first release (commit 105c5cb, schema 5), until
    d95b5d5. SHA-256 of the canonical JSON of the service without ``replicas``,
    ``depends_on`` and ``pull_policy`` (``controller/source/digest.py: config_hash`` there), with
    every host path of the watched root stored relative to the ROOT: ``env_file[].path``, a bind
    mount's ``source`` (``root_relative``) and a build ``context`` (``context_root_relative``).
    Today's model stores them relative to the stack's own folder (``DesiredStack.base``), so they
    are re-joined to ``base`` here. For a stack whose folder is the root (a manifest or a plain
    compose file at the top of the watched directory, or a folder applied by itself) both forms
    are one. Fields added after 0.1.0 (``security_opt``, ``deploy``, ``EnvFile.sops``, ...) stay
    out of the canonical JSON while unset (``compose.without_unset``), and a service that sets
    one could not be loaded by 0.1.0, so no 0.1.0 container has it.
``canonical, base-relative paths`` -- from d95b5d5 ("Digest independent of how a folder is
    named") to today's main (e010591): the same hash over today's model as it is.

Both are computed here by a frozen copy of that hash (``_canonical_hash``), not by
``digest.config_hash``: when the label stackctl writes changes, these stay what those releases
wrote. Pure: no file, engine or database is read.
"""

from __future__ import annotations

import posixpath

from controller.desired.compose import Build, Mount, Service
from controller.desired.digest import canonical_json, sha256_text

# The fields 105c5cb..e010591 left out of the hash: they scale or order a service, never change
# a container (``controller/source/digest.py: NOT_RECREATING`` at 105c5cb).
_NOT_HASHED = frozenset({"replicas", "depends_on", "pull_policy"})


def legacy_hashes(service: Service, *, base: str) -> frozenset[str]:
    """Every config-hash label an earlier release would have written for ``service``, a service
    of a stack whose source folder is ``base`` (root-relative, ``DesiredStack.base``)."""
    return frozenset({_canonical_hash(service), _canonical_hash(root_relative(service, base=base))})


def _canonical_hash(service: Service) -> str:
    """SHA-256 hex of the canonical service minus the fields that scale or order it (105c5cb
    through e010591)."""
    return sha256_text(canonical_json(service.model_dump(mode="json", exclude=set(_NOT_HASHED))))


def root_relative(service: Service, *, base: str) -> Service:
    """``service`` with its root's host paths relative to the root, as 0.1.0 (105c5cb) stored
    them: ``base`` joined in front of each env file, bind source and build context."""
    if posixpath.normpath(base or ".") == ".":
        return service
    update: dict[str, object] = {}
    if service.env_file:
        update["env_file"] = [
            env.model_copy(update={"path": _joined(base, env.path)}) for env in service.env_file
        ]
    if any(mount.root_relative for mount in service.volumes):
        update["volumes"] = [_mount_from_root(mount, base) for mount in service.volumes]
    if service.build is not None and service.build.context_root_relative:
        update["build"] = _build_from_root(service.build, base)
    return service.model_copy(update=update) if update else service


def _mount_from_root(mount: Mount, base: str) -> Mount:
    if not mount.root_relative or mount.source is None:
        return mount
    return mount.model_copy(update={"source": _joined(base, mount.source)})


def _build_from_root(build: Build, base: str) -> Build:
    return build.model_copy(update={"context": _joined(base, build.context)})


def _joined(base: str, path: str) -> str:
    """``path`` (relative to ``base``) relative to the root, normalized as the loader does
    (``proj`` + ``.`` is ``proj``; ``proj`` + ``../shared/a.env`` is ``shared/a.env``)."""
    return posixpath.normpath(posixpath.join(base, path))
