"""A service's ``environment`` with its ``env_file`` entries read in and merged.

Env files are read in order (later ones override earlier ones), then ``environment``
overrides them, as in Compose. Each env file's content hash is recorded on the canonical
service, so a changed file changes the service's config hash even where the merged values
do not. A bare name (``- FOO``, or ``FOO:`` without a value) takes its value from the project's
environment in Compose v2 (the shell, then ``.env``); stackctl never reads its own environment,
so such a name takes the value of the stack's variables (``spec.env``, the env file or ``.env``),
else is left out with a warning, even when an env file sets it (Compose v2 leaves it unset:
``null`` in ``docker compose config``; 1.29 kept the env file's value). Files are read only
through the context.
A SOPS-encrypted env file is kept as ciphertext, its variables as placeholders
(``controller.sources.loader.encrypted_files``): the content hash on the service is then the
ciphertext's.
"""

from __future__ import annotations

from typing import Any

from controller.desired.compose import EnvFile
from controller.sources.loader.context import (
    ComposeContext,
    list_or_dict,
    type_name,
    without_extensions,
)
from controller.sources.loader.dotenv import DotenvError, parse_dotenv
from controller.sources.loader.encrypted_files import (
    check_environment,
    encrypted_dotenv,
    sealed_variables,
)
from controller.sources.loader.root import RootPath
from controller.sources.loader.service_keys import check_keys
from controller.sources.loader.yamlmarks import KeyPath


def service_environment(
    ctx: ComposeContext, mapping: dict[str, Any], *, path: KeyPath
) -> tuple[dict[str, str], list[EnvFile]]:
    values: dict[str, str] = {}
    files: list[EnvFile] = []
    if "env_file" in mapping:
        for entry, where in _env_file_entries(ctx, mapping["env_file"], path=(*path, "env_file")):
            loaded = _read_env_file(ctx, entry, path=where)
            if loaded is not None:
                files.append(loaded[0])
                values.update(loaded[1])
    if "environment" in mapping:
        where = (*path, "environment")
        for name, value in (list_or_dict(ctx, mapping["environment"], path=where) or {}).items():
            if value is not None:
                values[name] = value
            elif name in ctx.variables:  # Compose v2 looks it up in the project's (.env too)
                values[name] = ctx.variables[name]
            else:  # unset, as in Compose v2, even over an env file's value (1.29 kept that)
                overridden = values.pop(name, None) is not None
                ctx.issues.warn(
                    (*where, name),
                    f"`{name}` has no value and no variable sets it; Compose would read it from "
                    "the shell, stackctl never reads its own environment, so it is left out"
                    + (" (as Compose v2 does, over the env file's value)" if overridden else ""),
                )
    check_environment(values, sealed=ctx.sealed, issues=ctx.issues, path=(*path, "environment"))
    return dict(sorted(values.items())), files


def _env_file_entries(
    ctx: ComposeContext, value: Any, *, path: KeyPath
) -> list[tuple[dict[str, Any], KeyPath]]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        ctx.issues.error(path, f"expected a path or a list, got {type_name(value)}")
        return []
    out = []
    for i, item in enumerate(items):
        where = (*path, i) if isinstance(value, list) else path
        entry = {"path": item} if isinstance(item, str) else item
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            ctx.issues.error(
                where, f"expected a path or a mapping with `path`, got {type_name(item)}"
            )
        elif check_keys(ctx, entry, path=where, allowed={"path", "required", "format"}):
            out.append((without_extensions(entry), where))
    return out


def _read_env_file(
    ctx: ComposeContext, entry: dict[str, Any], *, path: KeyPath
) -> tuple[EnvFile, dict[str, str]] | None:
    required = entry.get("required", True)
    if not isinstance(required, bool):
        ctx.issues.error((*path, "required"), f"expected true or false, got {type_name(required)}")
        return None
    fmt = entry.get("format")
    if fmt not in (None, "raw"):
        ctx.issues.error((*path, "format"), f"unknown env file format {fmt!r} (only `raw`)")
        return None
    found = ctx.read_text(entry["path"], path, required=required)
    if found is None:
        return None
    where, text, digest = found
    if text and encrypted_dotenv(text):
        return _sealed_env_file(ctx, where, text=text, required=required, fmt=fmt, path=path)
    try:
        parsed = parse_dotenv(text, lookup=ctx.variables, raw=fmt == "raw")
    except DotenvError as e:
        ctx.issues.error(path, f"`{where.rel}` line {e.line}: {e.message}")
        return None
    for name in parsed.unset:
        ctx.issues.warn(path, f"`{where.rel}`: variable `{name}` is not set; using an empty string")
    for name in parsed.bare:
        ctx.issues.warn(path, f"`{where.rel}`: `{name}` has no value; left out")
    env_file = EnvFile(path=ctx.stored(where), required=required, format=fmt, sha256=digest or None)
    return env_file, parsed.values


def _sealed_env_file(
    ctx: ComposeContext,
    where: RootPath,
    *,
    text: str,
    required: bool,
    fmt: str | None,
    path: KeyPath,
) -> tuple[EnvFile, dict[str, str]] | None:
    """A SOPS-encrypted env file: its ciphertext kept, its variables placeholders."""
    if fmt == "raw":
        ctx.issues.error(
            (*path, "format"), f"`{where.rel}` is SOPS-encrypted; `format: raw` is not supported"
        )
        return None
    digest = ctx.keep(text.encode())
    values = sealed_variables(text, digest=digest, rel=where.rel, issues=ctx.issues, path=path)
    if values is None:
        return None
    ctx.sealed.add(digest)
    env_file = EnvFile(path=ctx.stored(where), required=required, sha256=digest, sops=True)
    return env_file, values
