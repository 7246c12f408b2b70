"""A whole compose document: its top-level keys, its services, and what holds them together.

Owns the top-level keys (``version`` is obsolete and ignored with a warning; ``include`` and
``extends`` were applied before, on the raw document: ``compose_files``), profiles (a service
none of whose ``profiles`` is active,
``ComposeContext.profiles``, is left out of the model and noted in ``ctx.disabled``), the
implicit ``default`` network and fixed container names. The objects (``networks``,
``volumes``, ``secrets``, ``configs``) are ``objects``; ``depends_on`` targets, cycles and
depth are ``dependencies``; one service is ``service``. A placeholder of an encrypted variable
anywhere but an environment value is an error (``controller.sources.loader.encrypted_files``).
It must never read a file except through the context.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from controller.desired.compose import ComposeProject, Network, Service
from controller.sources.loader import service_keys as keys
from controller.sources.loader.compose_view import compose_view
from controller.sources.loader.context import ComposeContext, as_mapping
from controller.sources.loader.dependencies import check_graph, resolve_dependencies
from controller.sources.loader.encrypted_files import check_placeholders
from controller.sources.loader.engine_strings import report_nul_bytes
from controller.sources.loader.objects import OBJECT_NAME, normalize_objects
from controller.sources.loader.service import Declared, normalize_service

_CONTAINER_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")  # the engine's rule
_TOP_KEYS = {"name", "services", "networks", "volumes", "secrets", "configs", "version"}


def normalize_project(ctx: ComposeContext, doc: dict[str, Any]) -> ComposeProject | None:
    """The document as the canonical model, or ``None`` when it has errors (in ``ctx.issues``)."""
    before = len(ctx.issues.errors)
    for key in doc:
        if key == "version":
            ctx.issues.warn((key,), "`version` is obsolete and ignored, as in Compose")
    keys.check_keys(ctx, doc, path=(), allowed=_TOP_KEYS, known={"include", "models"})
    check_placeholders(doc, sealed=ctx.sealed, issues=ctx.issues)
    networks = normalize_objects(ctx, doc, section="networks")
    volumes = normalize_objects(ctx, doc, section="volumes")
    secrets = normalize_objects(ctx, doc, section="secrets")
    configs = normalize_objects(ctx, doc, section="configs")
    # A reference to an object whose own definition failed is not reported a second time.
    declared = Declared(
        networks=_keys(doc, "networks"),
        volumes=_keys(doc, "volumes"),
        secrets={k: secrets.get(k) for k in _keys(doc, "secrets")},
        configs={k: configs.get(k) for k in _keys(doc, "configs")},
    )
    services = _services(ctx, doc.get("services"), declared=declared)
    if "default" not in networks and any("default" in s.networks for s in services.values()):
        networks["default"] = Network(name=f"{ctx.project}_default")
    report_nul_bytes(
        ctx,
        {
            "services": services,
            "networks": networks,
            "volumes": volumes,
            "secrets": secrets,
            "configs": configs,
        },
    )
    if len(ctx.issues.errors) > before:
        return None
    return ComposeProject(
        services=services, networks=networks, volumes=volumes, secrets=secrets, configs=configs
    )


def _keys(doc: dict[str, Any], section: str) -> set[str]:
    raw = doc.get(section)
    return set(raw) if isinstance(raw, dict) else set()


def _services(ctx: ComposeContext, raw: Any, *, declared: Declared) -> dict[str, Service]:
    if raw is None:
        return {}
    mapping = as_mapping(ctx, raw, path=("services",))
    active: dict[str, Service] = {}
    inactive: set[str] = set()
    for name, value in (mapping or {}).items():
        path = ("services", name)
        if not OBJECT_NAME.fullmatch(name):
            ctx.issues.error(
                path, f"invalid service name {name!r}; use letters, digits, `.`, `_` and `-`"
            )
            continue
        result = normalize_service(ctx, value, path=path, declared=declared)
        if not ctx.enabled(result.profiles):
            inactive.add(name)
            ctx.disabled[name] = result.profiles
        elif result.service is not None:
            active[name] = result.service
            _view(ctx, name, value, service=result.service)
    known = set(mapping or {})
    for name, service in list(active.items()):
        active[name] = resolve_dependencies(
            ctx, name, service=service, known=known, inactive=inactive, active=active
        )
    check_graph(ctx, active)
    _check_container_names(ctx, active)
    return active


def _view(ctx: ComposeContext, name: str, raw: Any, *, service: Service) -> None:
    """The service as Compose v2 loads it, for Compose's config hash (none when it cannot be
    exact: ``compose_view`` says why). Its relative host paths start at the stack's folder."""
    base = _relative(ctx.root.rel(ctx.base_dir), ctx.source_dir)
    view = compose_view(raw, environment=service.environment, variables=ctx.variables, base=base)
    if view is not None:
        ctx.views[name] = view


def _relative(path: str, start: str) -> str:
    """``posixpath.relpath(path, start)`` of two root-relative paths, worked out from the
    root rather than the process's folder (``relpath`` asks the system for it twice a call:
    twice a stack, a call that lets the other threads take the GIL) when neither leaves it."""
    if path.startswith("..") or start.startswith(".."):
        return posixpath.relpath(path, start)
    return posixpath.relpath(posixpath.join("/", path), posixpath.join("/", start))


def _check_container_names(ctx: ComposeContext, services: dict[str, Service]) -> None:
    """A fixed ``container_name`` follows the engine's rule, and one name is one container:
    either mistake would otherwise fail only when the container is created."""
    owners: dict[str, str] = {}
    for name, service in services.items():
        fixed = service.container_name
        if not fixed:  # none; an empty one (an unset variable) the Compose schema refused
            continue
        if not _CONTAINER_NAME.fullmatch(fixed):
            ctx.issues.error(
                ("services", name, "container_name"),
                f"invalid container name {fixed!r}: the engine allows "
                "[a-zA-Z0-9][a-zA-Z0-9_.-]+ (two characters at least)",
            )
        elif fixed in owners:
            ctx.issues.error(
                ("services", name, "container_name"),
                f"container name `{fixed}` is also the one of service `{owners[fixed]}`",
            )
        else:
            owners[fixed] = name
