"""A service's ``extends``, applied as Docker Compose v2 does (compose-go ``loader/extends.go``).

``extends: base`` (or ``{service: base}``) takes the service ``base`` of the same file;
``extends: {file: other.yaml, service: base}`` takes it from another file, relative to the
project folder (an extended file's own ``extends.file`` is relative to that file). The base is
resolved first (its own ``extends``, recursively), then the extending service is merged onto
it by Compose's override rules (``compose_merge.merge_service``), and ``extends`` is dropped,
as Compose drops it from its model. An extended file is interpolated with the stack's
variables and is not checked on its own (the result is, as part of the extending service);
its relative paths are rewritten for the project folder (``compose_paths``).

A missing file, a missing service and a cycle are errors at the ``extends`` key of the
service that says it, naming the file and the service.
"""

from __future__ import annotations

import contextlib
import copy
import os
from typing import Any

from controller.sources.loader.compose_merge import MergeError, merge_service
from controller.sources.loader.compose_paths import rebase_document
from controller.sources.loader.compose_scope import Assembly, Scope, read_compose_file, real
from controller.sources.loader.context import type_name
from controller.sources.loader.interpolation import interpolate_tree
from controller.sources.loader.issues import Issues

# (the file a service is defined in, its name): a link of an ``extends`` chain
_Link = tuple[str, str]


class _Failed(Exception):
    """An ``extends`` that cannot be applied; the problem is reported already."""


def apply_extends(doc: dict[str, Any], *, issues: Issues, assembly: Assembly, scope: Scope) -> None:
    """Resolve every ``extends`` of the services of ``doc`` (one file's document), in place."""
    services = doc.get("services")
    if not isinstance(services, dict):
        return
    here = scope.including[-1] if scope.including else ""
    walk = _Walk(issues=issues, assembly=assembly, scope=scope)
    for name in list(services):
        # A failure is said; the service keeps its `extends`, so no rule asks for its image.
        with contextlib.suppress(_Failed):
            services[name] = walk.resolve(name, services, file=here, chain=())


class _Walk:
    def __init__(self, *, issues: Issues, assembly: Assembly, scope: Scope) -> None:
        self.issues = issues
        self.assembly = assembly
        self.scope = scope
        self.files: dict[str, tuple[str, dict[str, Any]]] = {}  # ref -> (real path, services)

    def resolve(
        self, name: str, services: dict[str, Any], *, file: str, chain: tuple[_Link, ...]
    ) -> Any:
        """The service ``name`` of ``services`` (defined in ``file``), its ``extends`` applied."""
        service = services.get(name)
        if not isinstance(service, dict) or "extends" not in service:
            return service
        at = ("services", chain[0][1] if chain else name, "extends")
        ref, other = self._target(service["extends"], at=at)
        link = (file, name)
        if link in chain:
            cycle = " -> ".join(f"`{s}` ({os.path.basename(f) or 'inline'})" for f, s in chain)
            self.issues.error(at, f"extends cycle: {cycle} -> `{name}`")
            raise _Failed
        if other is not None:
            base_file, base_services = self._load(other, at=at, name=name)
        else:
            base_file, base_services = file, services
        if ref not in base_services:
            where = f"`{other}`" if other is not None else "this file"
            self.issues.error(at, f"`{name}` extends `{ref}`: no such service in {where}")
            raise _Failed
        base = self.resolve(ref, base_services, file=base_file, chain=(*chain, link))
        if not isinstance(base, dict):
            self.issues.error(at, f"`{name}` extends `{ref}`: {type_name(base)}, not a service")
            raise _Failed
        own = {k: v for k, v in service.items() if k != "extends"}
        try:
            merged = merge_service(base, own)
        except MergeError as e:
            self.issues.error(("services", name, *e.path[2:]), e.message)
            raise _Failed from e
        services[name] = merged
        return merged

    def _target(self, value: Any, *, at: tuple[str, ...]) -> tuple[str, str | None]:
        if isinstance(value, str):
            return value, None
        if isinstance(value, dict) and isinstance(value.get("service"), str):
            file = value.get("file")
            return value["service"], file if isinstance(file, str) else None
        self.issues.error(at, "expected a service name, or a mapping with `service` (and `file`)")
        raise _Failed

    def _load(self, ref: str, *, at: tuple[str, ...], name: str) -> tuple[str, dict[str, Any]]:
        """The services of the extended file ``ref`` (relative to the project folder), paths
        rewritten for it; read once per walk."""
        if ref in self.files:
            return self.files[ref]
        found = read_compose_file(
            ref, base=self.scope.folder, assembly=self.assembly, issues=self.issues, at=at
        )
        if found is None:
            raise _Failed
        where, document = found
        scoped = self.assembly.scoped(where.rel, document)
        data = interpolate_tree(document.data, variables=self.scope.variables, issues=scoped)
        services = data.get("services") if isinstance(data, dict) else None
        if not isinstance(services, dict):
            self.issues.error(at, f"cannot extend a service of `{where.rel}`: it has no services")
            raise _Failed
        data = {"services": copy.deepcopy(services)}
        rebase_document(data, written_in=str(where.path.parent), read_from=str(self.scope.folder))
        self.files[ref] = (real(where), data["services"])
        return self.files[ref]
