"""The top-level objects of a compose document: ``networks``, ``volumes``, ``secrets`` and
``configs``, each checked and built into the model (``controller.desired.compose``).

Owns their keys, ``external`` objects, the engine names (``<stack>_<key>`` unless named or
external), a network's IPAM, and where a secret's or config's bytes come from (a file, a
variable, inline content): a SOPS-encrypted ``file`` is checked to decrypt and kept as
ciphertext with its format (``FileObject.sops``). It must never read a file except through the
context.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import ValidationError

from controller.desired.compose import FileObject, Network, Volume
from controller.sources.loader import service_keys as keys
from controller.sources.loader.addresses import check_ipam_pool
from controller.sources.loader.context import (
    ComposeContext,
    as_mapping,
    type_name,
    without_extensions,
)
from controller.sources.loader.encrypted_files import decrypt_checked
from controller.sources.loader.root import RootPath
from controller.sources.loader.yamlmarks import KeyPath
from controller.sources.secrets import format_of, is_encrypted, placeholders_in

# The name of an object or a service, as Compose allows it.
OBJECT_NAME = re.compile(r"[a-zA-Z0-9._-]+")
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


def normalize_objects(ctx: ComposeContext, doc: dict[str, Any], *, section: str) -> dict[str, Any]:
    """The objects of ``section`` (``networks``, ``volumes``, ``secrets`` or ``configs``) by
    key; one that fails its checks is left out, its problems in ``ctx.issues``."""
    build = _BUILDERS[section]
    raw = doc.get(section)
    if raw is None:
        return {}
    mapping = as_mapping(ctx, raw, path=(section,))
    out: dict[str, Any] = {}
    # An `x-` key here is a name like any other, as in Compose (and its schema): extensions
    # are keys of an object's definition, not names of objects.
    for key, value in (mapping or {}).items():
        path = (section, key)
        if not OBJECT_NAME.fullmatch(key):
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


_BUILDERS = {
    "networks": _network,
    "volumes": _volume,
    "secrets": _file_object,
    "configs": _file_object,
}
