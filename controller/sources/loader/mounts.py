"""Service ``volumes`` (short and long syntax) and ``tmpfs``, as canonical mounts.

Short syntax: ``SOURCE:TARGET[:OPTIONS]`` or ``TARGET`` (an anonymous volume). A source
starting with ``/``, ``.`` or ``~`` is a bind mount, anything else a named volume that must be
declared at the top level. Options: ``ro``, ``rw``, ``z``, ``Z``, ``nocopy``, and a bind
propagation mode. As in Compose, a short-syntax bind creates a missing host path
(``bind.create_host_path: true``) while the long syntax does not unless asked.

Relative bind sources resolve against the compose file's folder, must stay inside the watched
root (checked on the resolved path, symlinks included) and are stored root-relative with
``root_relative=True``. Mounts are sorted by target; two mounts on one target are an error.
This module must never touch the host paths beyond resolving them.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import ValidationError

from controller.desired.compose import Mount
from controller.sources.loader.context import ComposeContext, type_name, without_extensions
from controller.sources.loader.files import FileProblem, check_path_text
from controller.sources.loader.units import parse_bytes
from controller.sources.loader.yamlmarks import KeyPath

_PROPAGATION = {"shared", "slave", "private", "rshared", "rslave", "rprivate"}
_LONG_KEYS = {"type", "source", "target", "read_only", "bind", "volume", "tmpfs"}
_UNSUPPORTED_TYPES = {"npipe", "cluster", "image"}


def _short(ctx: ComposeContext, text: str, *, path: KeyPath) -> dict[str, Any] | None:
    parts = text.split(":")
    if len(parts) == 1:
        return {"type": "volume", "target": text}
    if len(parts) > 3 or not parts[0] or not parts[1]:
        ctx.issues.error(path, f"invalid volume {text!r}; expected SOURCE:TARGET[:OPTIONS]")
        return None
    source, target = parts[0], parts[1]
    bind = source.startswith(("/", ".", "~"))
    entry: dict[str, Any] = {
        "type": "bind" if bind else "volume",
        "source": source,
        "target": target,
    }
    options: dict[str, Any] = {"create_host_path": True} if bind else {}
    for option in parts[2].split(",") if len(parts) == 3 else []:
        if option in ("ro", "rw"):
            entry["read_only"] = option == "ro"
        elif option in ("z", "Z") and bind:
            options["selinux"] = option
        elif option in _PROPAGATION and bind:
            options["propagation"] = option
        elif option == "nocopy" and not bind:
            options["nocopy"] = True
        else:
            kind = "bind mount" if bind else "named volume"
            ctx.issues.error(path, f"option {option!r} is not valid for a {kind}")
            return None
    entry["bind" if bind else "volume"] = options
    return entry


def _long(ctx: ComposeContext, value: dict[str, Any], *, path: KeyPath) -> dict[str, Any] | None:
    entry = without_extensions(value)
    bad = False
    for key in sorted(set(entry) - _LONG_KEYS):
        message = "not supported yet" if key in ("consistency", "image") else "unknown key"
        ctx.issues.error((*path, key), message)
        bad = True
    for key in ("bind", "volume", "tmpfs"):
        if isinstance(entry.get(key), dict):
            entry[key] = without_extensions(entry[key])
    kind = entry.get("type")
    if kind in _UNSUPPORTED_TYPES:
        ctx.issues.error((*path, "type"), f"mount type `{kind}` is not supported yet")
        bad = True
    tmpfs = entry.get("tmpfs")
    if isinstance(tmpfs, dict):
        bad = _tmpfs_options(ctx, tmpfs, path=(*path, "tmpfs")) or bad
    return None if bad else entry


def _tmpfs_options(ctx: ComposeContext, options: dict[str, Any], *, path: KeyPath) -> bool:
    """Convert size/mode in place; True when something was wrong."""
    try:
        if options.get("size") is not None:
            options["size"] = parse_bytes(options["size"])
    except ValueError as e:
        ctx.issues.error((*path, "size"), str(e))
        return True
    mode = options.get("mode")
    if isinstance(mode, str):
        try:
            options["mode"] = int(mode, 8)
        except ValueError:
            ctx.issues.error((*path, "mode"), f"invalid octal mode {mode!r}")
            return True
    return False


def _finish(
    ctx: ComposeContext, entry: dict[str, Any], *, path: KeyPath, declared: set[str], long: bool
) -> Mount | None:
    kind = entry.get("type")
    source = entry.get("source")
    for key in ("source", "target"):
        try:
            check_path_text(entry.get(key) if isinstance(entry.get(key), str) else "")
        except FileProblem as e:  # absolute sources and targets never reach Root.locate
            ctx.issues.error((*path, key) if long else path, e.message)
            return None
    if kind == "bind":
        entry.setdefault("bind", {})
        if not isinstance(source, str) or not source:
            ctx.issues.error(path, "a bind mount needs a `source`")
            return None
        if source.startswith("/"):
            entry["source"] = os.path.normpath(source)
        elif not source.startswith("~"):
            where = ctx.locate(source, (*path, "source") if long else path)
            if where is None:
                return None
            entry["source"], entry["root_relative"] = ctx.stored(where), True
    elif kind == "volume":
        entry.setdefault("volume", {})
        if source is not None and source not in declared:
            ctx.issues.error(path, f"volume `{source}` is not declared in the top-level `volumes`")
            return None
    elif kind == "tmpfs":
        entry.setdefault("tmpfs", {})
        if source is not None:
            ctx.issues.error((*path, "source"), "a tmpfs mount has no source")
            return None
    target = entry.get("target")
    if isinstance(target, str) and not target.startswith("/"):
        ctx.issues.error((*path, "target"), f"the target {target!r} must be an absolute path")
        return None
    try:
        return Mount.model_validate(entry)
    except ValidationError as e:
        ctx.issues.validation_errors(e, base=path)
        return None


def normalize_volumes(
    ctx: ComposeContext, value: Any, *, path: KeyPath, declared: set[str]
) -> list[Mount] | None:
    if not isinstance(value, list):
        ctx.issues.error(path, f"expected a list, got {type_name(value)}")
        return None
    mounts: dict[str, Mount] = {}
    for i, item in enumerate(value):
        if isinstance(item, str):
            entry = _short(ctx, item, path=(*path, i))
        elif isinstance(item, dict):
            entry = _long(ctx, item, path=(*path, i))
        else:
            ctx.issues.error(
                (*path, i), f"expected a volume string or mapping, got {type_name(item)}"
            )
            continue
        if entry is None:
            continue
        mount = _finish(ctx, entry, path=(*path, i), declared=declared, long=isinstance(item, dict))
        if mount is None:
            continue
        if mount.target in mounts:
            ctx.issues.error((*path, i), f"two mounts on the target {mount.target!r}")
            continue
        mounts[mount.target] = mount
    return [mounts[target] for target in sorted(mounts)]


def normalize_tmpfs(ctx: ComposeContext, value: Any, *, path: KeyPath) -> list[str] | None:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        ctx.issues.error(path, f"expected a path or a list of paths, got {type_name(value)}")
        return None
    for i, item in enumerate(items):
        if not item.startswith("/"):
            ctx.issues.error(
                (*path, i) if isinstance(value, list) else path, f"{item!r} is not an absolute path"
            )
            return None
    return sorted(set(items))
