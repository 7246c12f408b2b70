"""A whole compose document: top-level objects, services, and the rules between them.

Owns the top-level keys (``networks``, ``volumes``, ``secrets``, ``configs``; ``version`` is
obsolete and ignored with a warning; ``include`` and ``extends`` are not supported yet),
profiles (a service none of whose ``profiles`` is active, ``ComposeContext.profiles``, is
left out of the model and noted in ``ctx.disabled``), ``depends_on`` targets, cycles and depth
(at most 100 services in one chain), the implicit ``default`` network, and the engine names
of networks/volumes/secrets/configs (``<stack>_<key>`` unless named or external). It must
never read a file except through the context. A SOPS-encrypted secret/config ``file`` is kept
as ciphertext with its format (``FileObject.sops``), and a placeholder of an encrypted
variable anywhere but an environment value is an error
(``controller.sources.loader.encrypted_files``).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import ValidationError

from controller.desired.compose import (
    ComposeProject,
    Dependency,
    FileObject,
    Network,
    Service,
    Volume,
)
from controller.sources.loader import service_keys as keys
from controller.sources.loader.addresses import check_ipam_pool
from controller.sources.loader.context import (
    ComposeContext,
    as_mapping,
    type_name,
    without_extensions,
)
from controller.sources.loader.encrypted_files import check_placeholders, decrypt_checked
from controller.sources.loader.engine_strings import report_nul_bytes
from controller.sources.loader.files import RootPath
from controller.sources.loader.service import Declared, normalize_service
from controller.sources.loader.yamlmarks import KeyPath
from controller.sources.secrets import format_of, is_encrypted, placeholders_in

_OBJECT_NAME = re.compile(r"[a-zA-Z0-9._-]+")
# Services in one `depends_on` chain: each level is started and waited for in turn, and the
# planner orders them recursively; no real stack comes near this.
MAX_DEPENDENCY_DEPTH = 100
_CONTAINER_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")  # the engine's rule
_TOP_KEYS = {"name", "services", "networks", "volumes", "secrets", "configs", "version"}
_NETWORK_KEYS = {
    "driver",
    "driver_opts",
    "ipam",
    "internal",
    "attachable",
    "enable_ipv6",
    "labels",
    "external",
    "name",
}
_VOLUME_KEYS = {"driver", "driver_opts", "external", "labels", "name"}
_FILE_KEYS = {"file", "environment", "external", "name"}


def normalize_project(ctx: ComposeContext, doc: dict[str, Any]) -> ComposeProject | None:
    before = len(ctx.issues.errors)
    for key in doc:
        if key == "version":
            ctx.issues.warn((key,), "`version` is obsolete and ignored, as in Compose")
    keys.check_keys(ctx, doc, path=(), allowed=_TOP_KEYS, known={"include", "models"})
    check_placeholders(doc, sealed=ctx.sealed, issues=ctx.issues)
    networks = _objects(ctx, doc, section="networks", build=_network)
    volumes = _objects(ctx, doc, section="volumes", build=_volume)
    secrets = _objects(ctx, doc, section="secrets", build=_file_object)
    configs = _objects(ctx, doc, section="configs", build=_file_object)
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


def _objects(
    ctx: ComposeContext, doc: dict[str, Any], *, section: str, build: Any
) -> dict[str, Any]:
    raw = doc.get(section)
    if raw is None:
        return {}
    mapping = as_mapping(ctx, raw, path=(section,))
    out: dict[str, Any] = {}
    # An `x-` key here is a name like any other, as in Compose (and its schema): extensions
    # are keys of an object's definition, not names of objects.
    for key, value in (mapping or {}).items():
        path = (section, key)
        if not _OBJECT_NAME.fullmatch(key):
            ctx.issues.error(path, f"invalid name {key!r}; use letters, digits, `.`, `_` and `-`")
            continue
        entry = {} if value is None else as_mapping(ctx, value, path=path)
        if entry is None:
            continue
        built = build(ctx, key, entry=without_extensions(entry), path=path, section=section)
        if built is not None:
            out[key] = built
    return out


def _external(ctx: ComposeContext, entry: dict[str, Any], *, path: KeyPath) -> bool:
    external = entry.get("external", False)
    if isinstance(external, dict):
        ctx.issues.error(
            (*path, "external"),
            "`external: {name: ...}` is obsolete; write `external: true` and `name:`",
        )
        return False
    if external in (True, "true") and set(entry) - {"external", "name"}:
        ctx.issues.error(path, "an external object takes only `name` besides `external`")
    return external in (True, "true")


def _validate(
    ctx: ComposeContext, model: type[Any], *, fields: dict[str, Any], path: KeyPath
) -> Any:
    try:
        return model.model_validate(fields)
    except ValidationError as e:
        ctx.issues.validation_errors(e, base=path)
        return None


def _engine_name(ctx: ComposeContext, key: str, *, entry: dict[str, Any], external: bool) -> Any:
    return entry.get("name") or (key if external else f"{ctx.project}_{key}")


def _network(
    ctx: ComposeContext, key: str, *, entry: dict[str, Any], path: KeyPath, section: str
) -> Network | None:
    if not keys.check_keys(ctx, entry, path=path, allowed=_NETWORK_KEYS, known={"enable_ipv4"}):
        return None
    fields = _shared_fields(ctx, key, entry=entry, path=path)
    if isinstance(entry.get("ipam"), dict):
        fields["ipam"] = _ipam(ctx, entry["ipam"], path=(*path, "ipam"))
    return _validate(ctx, Network, fields=fields, path=path)


def _shared_fields(
    ctx: ComposeContext, key: str, *, entry: dict[str, Any], path: KeyPath
) -> dict[str, Any]:
    """What networks and volumes have alike: external, the engine's name, labels, driver_opts."""
    external = _external(ctx, entry, path=path)
    fields = {
        **entry,
        "external": external,
        "name": _engine_name(ctx, key, entry=entry, external=external),
    }
    for name in ("labels", "driver_opts"):
        if entry.get(name) is not None:
            fields[name] = keys.string_map(ctx, entry[name], path=(*path, name), what=name)
    return fields


def _ipam(ctx: ComposeContext, raw: dict[str, Any], *, path: KeyPath) -> dict[str, Any]:
    ipam = without_extensions(raw)
    if isinstance(ipam.get("config"), list):
        ipam["config"] = [
            without_extensions(c) if isinstance(c, dict) else c for c in ipam["config"]
        ]
        for i, pool in enumerate(ipam["config"]):
            if isinstance(pool, dict):
                check_ipam_pool(ctx, pool, path=(*path, "config", i))
    if ipam.get("options") is not None:
        ipam["options"] = keys.string_map(
            ctx, ipam["options"], path=(*path, "options"), what="option"
        )
    return ipam


def _volume(
    ctx: ComposeContext, key: str, *, entry: dict[str, Any], path: KeyPath, section: str
) -> Volume | None:
    if not keys.check_keys(ctx, entry, path=path, allowed=_VOLUME_KEYS):
        return None
    fields = _shared_fields(ctx, key, entry=entry, path=path)
    return _validate(ctx, Volume, fields=fields, path=path)


def _file_object(
    ctx: ComposeContext, key: str, *, entry: dict[str, Any], path: KeyPath, section: str
) -> FileObject | None:
    allowed = _FILE_KEYS | ({"content"} if section == "configs" else set())
    known = {"driver", "driver_opts", "labels", "template_driver"}
    if not keys.check_keys(ctx, entry, path=path, allowed=allowed, known=known):
        return None
    external = _external(ctx, entry, path=path)
    origins = [k for k in ("file", "environment", "content") if entry.get(k) is not None]
    origins += ["external"] if external else []
    if len(origins) != 1:
        choices = (
            "`file`, `environment`, `content` or `external`"
            if section == "configs"
            else "`file`, `environment` or `external`"
        )
        ctx.issues.error(path, f"give exactly one of {choices}")
        return None
    origin = origins[0]
    fields: dict[str, Any] = {
        "name": _engine_name(ctx, key, entry=entry, external=external),
        "origin": origin,
    }
    value = entry.get(origin)
    if origin == "file":
        found = ctx.read_content(str(value), (*path, "file"))
        if found is None:
            return None
        fields["file"], fields["sha256"] = ctx.stored(found[0]), found[1]
        fields["sops"] = _sops_format(ctx, found, path=(*path, "file"))
        if fields["sops"] is False:
            return None
    elif origin == "environment":
        if not isinstance(value, str) or ctx.variables.get(value) is None:
            ctx.issues.error((*path, "environment"), f"variable `{value}` is not set")
            return None
        if placeholders_in(ctx.variables[value]):
            ctx.issues.error(
                (*path, "environment"),
                f"uses SOPS-encrypted variable {value}; encrypted variables may only be used"
                " in environment values (an encrypted secret is an encrypted `file`)",
            )
            return None
        fields["environment"], fields["sha256"] = value, ctx.keep(ctx.variables[value].encode())
    elif origin == "content":
        if not isinstance(value, str):
            ctx.issues.error((*path, "content"), f"expected a string, got {type_name(value)}")
            return None
        fields["sha256"] = ctx.keep(value.encode())
    return _validate(ctx, FileObject, fields=fields, path=path)


def _sops_format(
    ctx: ComposeContext, found: tuple[RootPath, str], *, path: KeyPath
) -> str | Literal[False] | None:
    """The SOPS format of a secret/config file that is encrypted (checked to decrypt, the
    plaintext dropped), None for a plaintext one, False (reported) for one that cannot be
    decrypted."""
    where, digest = found
    fmt = format_of(where.rel)
    if not is_encrypted(ctx.files[digest], fmt):
        return None
    plain = decrypt_checked(ctx.files[digest], fmt=fmt, rel=where.rel, issues=ctx.issues, path=path)
    return False if plain is None else fmt


def _services(ctx: ComposeContext, raw: Any, *, declared: Declared) -> dict[str, Service]:
    if raw is None:
        return {}
    mapping = as_mapping(ctx, raw, path=("services",))
    active: dict[str, Service] = {}
    inactive: set[str] = set()
    for name, value in (mapping or {}).items():
        path = ("services", name)
        if not _OBJECT_NAME.fullmatch(name):
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
    known = set(mapping or {})
    for name, service in list(active.items()):
        active[name] = _dependencies(
            ctx, name, service=service, known=known, inactive=inactive, active=active
        )
    _check_graph(ctx, active)
    _check_container_names(ctx, active)
    return active


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


def _dependencies(
    ctx: ComposeContext,
    name: str,
    *,
    service: Service,
    known: set[str],
    inactive: set[str],
    active: dict[str, Service],
) -> Service:
    """Check ``depends_on`` targets; add the implicit one of ``network_mode: service:X``."""
    deps: dict[str, Dependency] = {}
    for target, dep in service.depends_on.items():
        path = ("services", name, "depends_on", target)
        if target not in known:
            ctx.issues.error(path, f"depends on the unknown service `{target}`")
        elif target in inactive and dep.required:
            ctx.issues.error(
                path,
                f"depends on `{target}`, which is disabled: none of its profiles is active"
                f" ({_profiles_text(ctx, target)})",
            )
        elif target in inactive:
            ctx.issues.warn(
                path, f"optional dependency on the disabled service `{target}` left out"
            )
        else:
            deps[target] = dep
    mode = service.network_mode or ""
    if mode.startswith("service:"):
        target = mode.removeprefix("service:")
        if target not in active:
            ctx.issues.error(
                ("services", name, "network_mode"),
                f"`{target}` is not an active service of this stack",
            )
        else:
            deps.setdefault(target, Dependency())
    return (
        service if deps == service.depends_on else service.model_copy(update={"depends_on": deps})
    )


def _profiles_text(ctx: ComposeContext, name: str) -> str:
    active = ", ".join(sorted(ctx.profiles)) or "none"
    return f"its profiles: {', '.join(ctx.disabled.get(name, []))}; active: {active}"


def _check_graph(ctx: ComposeContext, services: dict[str, Service]) -> None:
    """Report every ``depends_on`` cycle once and, without cycles, a chain deeper than
    ``MAX_DEPENDENCY_DEPTH``. Iterative on purpose: a file may chain thousands of services,
    and a recursive walk would overflow Python's stack."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    depth: dict[str, int] = {}  # services in the longest chain from each finished service
    reported: set[frozenset[str]] = set()
    for start in sorted(services):
        if start in state:
            continue
        trail, pending = [start], [iter(services[start].depends_on)]
        state[start] = 1
        while trail:
            name = trail[-1]
            dep = next(pending[-1], None)
            if dep is None:  # every dependency of `name` is done (or on the path: a cycle)
                state[name] = 2
                deps = [d for d in services[name].depends_on if d in services]
                depth[name] = 1 + max((depth.get(d, 0) for d in deps), default=0)
                trail.pop()
                pending.pop()
            elif dep in services and state.get(dep) == 1:
                cycle = [*trail[trail.index(dep) :], dep]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    ctx.issues.error(("services", name, "depends_on", dep), _cycle_text(cycle))
            elif dep in services and dep not in state:
                state[dep] = 1
                trail.append(dep)
                pending.append(iter(services[dep].depends_on))
    deepest = max(sorted(depth), key=lambda n: depth[n], default=None)
    if not reported and deepest is not None and depth[deepest] > MAX_DEPENDENCY_DEPTH:
        ctx.issues.error(
            ("services", deepest, "depends_on"),
            f"its `depends_on` chain is {depth[deepest]} services deep; "
            f"at most {MAX_DEPENDENCY_DEPTH} are supported",
        )


def _cycle_text(cycle: list[str]) -> str:
    """``a -> b -> a``; a long cycle by its ends, so that one error stays one line."""
    if len(cycle) <= 11:
        return "dependency cycle: " + " -> ".join(cycle)
    return f"dependency cycle of {len(cycle) - 1} services: " + " -> ".join(
        [*cycle[:3], "...", *cycle[-2:]]
    )
