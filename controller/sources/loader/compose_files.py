"""A stack's compose files as Docker Compose v2 puts them together, into one raw document,
before anything is normalized (compose-go ``loader/loader.go``, ``loadYamlFile``).

Each file in turn (the main one, then each override: a manifest's further ``composeFiles``, a
folder's ``compose.override.yaml``) is interpolated, checked against the Compose schema in its
own name, has its services' ``extends`` applied (``compose_extends``) and its ``include``
entries imported (``compose_include``), and is merged onto the files before it
(``compose_merge``). Relative paths of every file (overrides included) are the project
folder's, as with ``docker compose -f a -f b``; those of an extended file or an included
project are rewritten to say the same place from there (``compose_paths``).

Problems of a file are reported in its own name (``Issues.scoped``); problems the merged model
shows later (``normalize_service``) are reported in the main file's. Files are read only
through ``files``/``root``, so each is a probe of the load: a change to an override, an
extended or an included file loads the stack again (``cache``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from controller.sources.loader.compose_extends import apply_extends
from controller.sources.loader.compose_paths import rebase_document
from controller.sources.loader.compose_scope import (
    Assembly,
    ComposeFile,
    Scope,
    merge_into,
    read_compose_file,
    real,
)
from controller.sources.loader.context import type_name
from controller.sources.loader.files import FileProblem
from controller.sources.loader.interpolation import interpolate_tree
from controller.sources.loader.issues import Issues
from controller.sources.loader.root import RootPath
from controller.sources.loader.specification import check_specification
from controller.sources.loader.variables import load_variables
from controller.sources.loader.yamlmarks import KeyPath


def assemble(
    main: Any, overrides: list[ComposeFile], *, assembly: Assembly, folder: Path, file: str
) -> dict[str, Any] | None:
    """The main document (its raw data) and the ``overrides`` as one interpolated raw
    document, or None when the main one is not a mapping. ``folder``: the project folder;
    ``file``: the main file's real path (None for an inline document)."""
    scope = Scope(folder, assembly.variables, (file,) if file else ())
    doc = prepare(main, issues=assembly.issues, assembly=assembly, scope=scope)
    if doc is None:
        return None
    for extra in overrides:
        issues = assembly.scoped(extra.rel, extra.document)
        more = prepare(extra.document.data, issues=issues, assembly=assembly, scope=scope)
        if more is not None:
            doc = merge_into(doc, more, issues=issues)
    return doc


def prepare(
    data: Any, *, issues: Issues, assembly: Assembly, scope: Scope, check: bool = True
) -> dict[str, Any] | None:
    """One file's document: interpolated, checked against the schema (unless ``check`` is
    false: an extended file is checked only as part of the service that extends it, as in
    Compose), its ``extends`` applied and its ``include`` imported."""
    if not isinstance(data, dict):
        issues.error((), f"expected a mapping (a compose document), got {type_name(data)}")
        return None
    doc = interpolate_tree(data, variables=scope.variables, issues=issues, nul=assembly.nul)
    if check:
        assembly.refused |= check_specification(doc, issues=issues)
    apply_extends(doc, issues=issues, assembly=assembly, scope=scope)
    apply_include(doc, issues=issues, assembly=assembly, scope=scope)
    return doc


# Resources an included project brings (compose-go ``importResources``).
_IMPORTED = ("services", "volumes", "networks", "secrets", "configs", "models")


def apply_include(doc: dict[str, Any], *, issues: Issues, assembly: Assembly, scope: Scope) -> None:
    """Import, in place, the projects ``doc``'s ``include`` names (compose-go
    ``loader/include.go``): each is loaded as a project of its own (its files merged, its
    paths relative to its ``project_directory``, by default its first file's folder; its
    variables: ours, plus its ``env_file``, or else the ``.env`` of its project folder, for
    what ours do not set), then its services, networks, volumes, secrets and configs are
    added; one this file also defines (differently) is an error, as in Compose."""
    entries = doc.pop("include", None)
    if not isinstance(entries, list):
        return  # none; another shape the schema refused
    for index, entry in enumerate(entries):
        at = ("include", index)
        imported = _included(entry, at=at, issues=issues, assembly=assembly, scope=scope)
        if imported is not None:
            _import(doc, imported, at=at, issues=issues)


def _included(
    entry: Any, *, at: KeyPath, issues: Issues, assembly: Assembly, scope: Scope
) -> dict[str, Any] | None:
    spec = {"path": entry} if isinstance(entry, str) else entry
    if not isinstance(spec, dict):
        return None  # the schema said
    paths = _strings(spec.get("path"))
    if not paths:
        issues.error((*at, "path"), "an include needs the path of a compose file")
        return None
    files = []
    for i, ref in enumerate(paths):
        key = (*at, "path") if isinstance(entry, str) or len(paths) == 1 else (*at, "path", i)
        found = read_compose_file(ref, base=scope.folder, assembly=assembly, issues=issues, at=key)
        if found is None:
            return None
        files.append(found)
    first = real(files[0][0])
    if first in scope.including:
        chain = " -> ".join(f"`{os.path.basename(f)}`" for f in (*scope.including, first))
        issues.error(at, f"include cycle: {chain}")
        return None
    folder = _project_folder(
        spec, files[0][0], at=at, issues=issues, assembly=assembly, scope=scope
    )
    if folder is None:
        return None
    variables = _variables(spec, folder, at=at, issues=issues, assembly=assembly, scope=scope)
    inner = Scope(folder, variables, (*scope.including, first))
    merged: dict[str, Any] | None = None
    for where, document in files:
        scoped = assembly.scoped(where.rel, document)
        one = prepare(document.data, issues=scoped, assembly=assembly, scope=inner)
        if one is not None:
            merged = one if merged is None else merge_into(merged, one, issues=scoped)
    if merged is None:
        return None
    rebase_document(merged, written_in=str(folder), read_from=str(scope.folder))
    return merged


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _project_folder(
    spec: dict[str, Any],
    first: RootPath,
    *,
    at: KeyPath,
    issues: Issues,
    assembly: Assembly,
    scope: Scope,
) -> Path | None:
    given = spec.get("project_directory")
    if not isinstance(given, str):
        return first.path.parent
    try:
        return assembly.root.locate(base=scope.folder, ref=given).path
    except FileProblem as e:
        issues.error((*at, "project_directory"), f"`{given}`: {e.message}")
        return None


def _variables(
    spec: dict[str, Any],
    folder: Path,
    *,
    at: KeyPath,
    issues: Issues,
    assembly: Assembly,
    scope: Scope,
) -> Mapping[str, str]:
    """The included project's variables: the including project's win over its env files
    (compose-go merges the include's env files under the environment it was given)."""
    refs = _strings(spec.get("env_file"))
    if not refs:
        return load_variables(
            root=assembly.root,
            issues=issues,
            env=scope.variables,
            base_dir=folder,
            implicit_dotenv=True,
        )
    variables: Mapping[str, str] = scope.variables
    for i, ref in enumerate(reversed(refs)):  # later files win over earlier ones
        key = (*at, "env_file") if len(refs) == 1 else (*at, "env_file", len(refs) - 1 - i)
        variables = load_variables(
            root=assembly.root,
            issues=issues,
            env=variables,
            base_dir=scope.folder,
            env_file=ref,
            env_file_key=key,
        )
    return variables


def _import(doc: dict[str, Any], imported: dict[str, Any], *, at: KeyPath, issues: Issues) -> None:
    for section in _IMPORTED:
        theirs = imported.get(section)
        if not isinstance(theirs, dict):
            continue
        ours = doc.get(section)
        if not isinstance(ours, dict):
            ours = doc[section] = {}
        for name, value in theirs.items():
            if name in ours and ours[name] != value:
                issues.error(
                    at,
                    f"`{section}.{name}` is defined here and in the included project"
                    " differently; Compose refuses the conflict",
                )
            else:
                ours[name] = value
