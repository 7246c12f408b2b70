"""Relative paths of a raw compose mapping written for one folder, rewritten for another.

Compose resolves the relative paths of an extended file's service, and of an included
project, against that file's folder (or the include's ``project_directory``), not the main
file's (compose-go ``paths/resolve.go``): build contexts, ``env_file``, ``label_file``, bind
mount sources, ``extends.file``, and the ``file`` of top-level secrets and configs. The rest of
the loader resolves every relative path against the stack's compose folder, so a merged-in
service's paths are rewritten here to say the same place from there (``./x`` or ``../x``). It
is lexical (``..`` folded), as ``Root.locate`` is; where a path really points, and whether it
stays inside the watched root, is still checked by the loader. It must never read a file.
"""

from __future__ import annotations

import os
import posixpath
import re
from typing import Any

_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|github\.com/)")


def moved(ref: str, *, written_in: str, read_from: str) -> str:
    """``ref`` (relative to the folder ``written_in``) relative to ``read_from`` instead;
    absolute, home-relative and remote references are left as they are."""
    if not ref or os.path.isabs(ref) or ref.startswith("~") or _REMOTE.match(ref):
        return ref
    target = os.path.normpath(os.path.join(written_in, ref))
    rel = posixpath.normpath(os.path.relpath(target, read_from))
    return rel if rel.startswith("..") else f"./{rel}" if rel != "." else "."


def rebase_document(doc: dict[str, Any], *, written_in: str, read_from: str) -> None:
    """Rewrite, in place, every relative path of a raw compose document (see the module)."""
    services = doc.get("services")
    if isinstance(services, dict):
        for service in services.values():
            if isinstance(service, dict):
                rebase_service(service, written_in=written_in, read_from=read_from)
    for section in ("secrets", "configs"):
        objects = doc.get(section)
        for value in objects.values() if isinstance(objects, dict) else ():
            if isinstance(value, dict) and isinstance(value.get("file"), str):
                value["file"] = moved(value["file"], written_in=written_in, read_from=read_from)


def rebase_service(service: dict[str, Any], *, written_in: str, read_from: str) -> None:
    """Rewrite, in place, the relative paths of one raw service mapping."""

    def move(ref: Any) -> Any:
        return (
            moved(ref, written_in=written_in, read_from=read_from) if isinstance(ref, str) else ref
        )

    build = service.get("build")
    if isinstance(build, str):
        service["build"] = move(build)
    elif isinstance(build, dict) and "context" in build:
        build["context"] = move(build["context"])
    for key in ("env_file", "label_file"):
        if key in service:
            service[key] = _files(service[key], move)
    extends = service.get("extends")
    if isinstance(extends, dict) and "file" in extends:
        extends["file"] = move(extends["file"])
    volumes = service.get("volumes")
    if isinstance(volumes, list):
        service["volumes"] = [_volume(v, move) for v in volumes]


def _files(value: Any, move: Any) -> Any:
    if isinstance(value, str):
        return move(value)
    if not isinstance(value, list):
        return value
    out: list[Any] = []
    for item in value:
        if isinstance(item, dict) and "path" in item:
            out.append({**item, "path": move(item["path"])})
        else:
            out.append(move(item))
    return out


def _volume(value: Any, move: Any) -> Any:
    """A bind mount's source: the short syntax's when it starts with ``.`` (else it names a
    volume, or is absolute), the long syntax's for ``type: bind``."""
    if isinstance(value, str):
        source, sep, rest = value.partition(":")
        return f"{move(source)}{sep}{rest}" if sep and source.startswith(".") else value
    if isinstance(value, dict) and value.get("type") == "bind" and "source" in value:
        return {**value, "source": move(value["source"])}
    return value
