"""One compose document plus stack settings in, one ``DesiredStack`` (or errors) out.

Shared by the three source forms. Owns the order of the steps (interpolate, check against the
Compose Specification's schema, settle the stack name, normalize, build the digested value)
and the naming rule between a compose file's ``name:`` and the name the source gives: a Stack
manifest's ``metadata.name`` is the name (a differing ``name:`` in its compose document is an
error); for a project folder or a plain compose file the ``name:`` wins over the folder or
file name, as in Compose. It must never
decide which files are sources; ``loader.py`` does.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from controller.desired.compact import CompactStack
from controller.desired.compose import ComposeProject
from controller.desired.delivery import ImageUpdates, NotifyTarget, RollbackPolicy
from controller.desired.desired_stack import DesiredStack
from controller.desired.engine_spec import Target
from controller.desired.names import name_problem
from controller.sources.loader.compose_files import assemble
from controller.sources.loader.compose_scope import Assembly, ComposeFile
from controller.sources.loader.compose_view import with_host_paths
from controller.sources.loader.context import ComposeContext, type_name
from controller.sources.loader.issues import Issues
from controller.sources.loader.project import normalize_project
from controller.sources.loader.root import Root


@dataclass(frozen=True)
class StackSettings:
    labels: dict[str, str] = field(default_factory=dict)
    suspend: bool = False
    prune: bool = True
    deletion_policy: str = "Delete"
    adopt: bool = False
    notify: tuple[NotifyTarget, ...] = ()
    rollback: RollbackPolicy = field(default_factory=RollbackPolicy)
    timeout: float | None = None
    image_updates: ImageUpdates | None = None
    target: Target | None = None  # None: `local`


@dataclass
class Candidate:
    """A stack a source tried to produce: its name if one could be read, the stack if valid,
    and where the name was written (for the duplicate-name error)."""

    name: str | None
    stack: DesiredStack | CompactStack | None  # compact when the walk keeps them so
    errors: list[Any]
    warnings: list[Any]
    name_file: str = ""
    name_line: int | None = None


def compile_stack(
    data: Any,
    *,
    issues: Issues,
    root: Root,
    base_dir: Path,
    variables: Mapping[str, str],
    source: str,
    source_dir: str | None = None,
    profiles: list[str] | None = None,
    fixed_name: str | None = None,
    derived_name: str | None = None,
    settings: StackSettings | None = None,
    overrides: list[ComposeFile] | None = None,
    main_file: str = "",
) -> tuple[str | None, DesiredStack | None]:
    """The stack name (None when none could be settled) and the stack (None when invalid).

    ``source_dir`` is the source's own folder, root-relative (a project folder; default: the
    folder of the file ``source``): the stored host paths start there (``DesiredStack.base``).
    ``profiles``: the active ones (a Stack manifest's ``spec.profiles``); None: those of the
    ``COMPOSE_PROFILES`` variable (from the ``.env`` file), as Compose reads it."""
    base = source_dir if source_dir is not None else (posixpath.dirname(source) or ".")
    before = len(issues.errors)
    if not isinstance(data, dict):
        issues.error((), f"expected a mapping (a compose document), got {type_name(data)}")
        return fixed_name, None
    # Each file interpolated, schema-checked (as compose-go), extended, included, merged.
    assembly = Assembly(root=root, variables=variables, issues=issues)
    doc = assemble(data, overrides or [], assembly=assembly, folder=base_dir, file=main_file)
    if doc is None:
        return fixed_name, None
    refused = assembly.refused
    checked = len(issues.errors)
    name = _settle_name(
        doc.get("name"), issues=issues, fixed=fixed_name, derived=derived_name, source=source
    )
    ctx = ComposeContext(
        root=root,
        base_dir=base_dir,
        project=name or "_",
        variables=variables,
        issues=issues,
        nul_strings=assembly.nul,
        source_dir=base,
        profiles=active_profiles(profiles, variables),
    )
    project = normalize_project(ctx, doc)
    issues.drop_repeats(since=checked, refused=refused)
    if name is None or project is None or len(issues.errors) > before:
        return name, None
    stack = _build(
        name=name,
        source=source,
        base=base,
        project=project,
        files=ctx.files,
        settings=settings or StackSettings(),
        views={
            name: with_host_paths(view, folder=str(root.given / base), home=None)
            for name, view in ctx.views.items()
            if name in project.services
        },
    )
    if ctx.disabled:
        stack = stack.model_copy(update={"disabled_services": dict(ctx.disabled)})
    return name, stack


def active_profiles(given: list[str] | None, variables: Mapping[str, str]) -> frozenset[str]:
    """The given profiles, or the comma-separated ``COMPOSE_PROFILES`` (blanks ignored)."""
    if given is None:
        given = variables.get("COMPOSE_PROFILES", "").split(",")
    return frozenset(p.strip() for p in given if p.strip())


def _settle_name(
    declared: Any, *, issues: Issues, fixed: str | None, derived: str | None, source: str
) -> str | None:
    if declared is not None:
        problem = (
            name_problem(declared)
            if isinstance(declared, str)
            else f"expected a string, got {type_name(declared)}"
        )
        if fixed is not None and declared != fixed:
            issues.error(
                ("name",),
                f"`name: {declared}` differs from the stack name `{fixed}` (metadata.name)",
            )
        elif fixed is None and problem:
            issues.error(("name",), problem)
            return None
        elif fixed is None:
            return str(declared)
    if fixed is not None:
        return fixed
    problem = name_problem(derived or "")
    if problem:
        issues.error(
            (), f"no valid stack name can be derived from `{source}`: {problem}; set `name:`"
        )
        return None
    return derived


def _build(
    *,
    name: str,
    source: str,
    base: str,
    project: ComposeProject,
    files: dict[str, bytes],
    settings: StackSettings,
    views: dict[str, dict[str, Any]],
) -> DesiredStack:
    """``views``: each service's Compose view with absolute host paths (a ``~/`` one is
    expanded where Compose's hash is computed: ``controller.desired.compose_hash``)."""
    return DesiredStack(
        name=name,
        source=source,
        base=base,
        labels=settings.labels,
        suspend=settings.suspend,
        prune=settings.prune,
        deletion_policy=settings.deletion_policy,  # type: ignore[arg-type]  # checked by the manifest model
        adopt=settings.adopt,
        notify=settings.notify,
        rollback=settings.rollback,
        timeout=settings.timeout,
        image_updates=settings.image_updates,
        target=settings.target,
        compose=project,
        files=files,
        compose_views=views,
    )
