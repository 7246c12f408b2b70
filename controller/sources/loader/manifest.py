"""The ``Stack`` manifest kind (``apiVersion: stackctl/v1``), one YAML document at a time.

Owns the manifest's schema (``metadata.name``, ``metadata.labels``, ``spec.compose`` or
``spec.composeFile`` (or ``spec.composeFiles``: several, merged in order as ``docker compose
-f a -f b`` merges them; the first is the one paths and ``.env`` start from), ``spec.envFile``,
``spec.env``, ``suspend``, ``prune``,
``deletionPolicy``, ``adopt``, and the delivery settings ``notify``, ``rollback``,
``timeout``, ``imageUpdates``, read by ``source.delivery``) and how a manifest reaches its
compose document: inline, or a file relative to the manifest (which then sits in its own file
for error messages, gets the ``.env`` beside it unless ``envFile`` is given, and resolves its
relative paths from its own folder). Defaults: ``suspend: false``, ``prune: true``,
``deletionPolicy: Delete``, ``adopt: false``, no notification, no rollback, the controller's
health wait, no image updates.
It must never decide about other documents or files; the loader does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from controller.desired.engine_spec import LOCAL, Target, engine_name_problem
from controller.desired.names import name_problem
from controller.desired.reach import Reach
from controller.models.errors import ManifestError
from controller.sources.loader.compiler import Candidate, StackSettings, compile_stack
from controller.sources.loader.compose_scope import ComposeFile
from controller.sources.loader.context import type_name
from controller.sources.loader.delivery_keys import read_delivery
from controller.sources.loader.files import FileProblem, read_text
from controller.sources.loader.issues import Issues
from controller.sources.loader.root import Root, realpath
from controller.sources.loader.variables import load_variables
from controller.sources.loader.yamlload import Document, load_documents

API_VERSION = "stackctl/v1"
KIND = "Stack"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class ManifestMetadata(_Strict):
    name: str
    labels: dict[str, str] = Field(default_factory=dict)


class NotifySpec(_Strict):
    url: str
    events: list[str] = Field(default_factory=list)


class RollbackSpec(_Strict):
    onFailure: bool = False


class ImageUpdatesSpec(_Strict):
    policy: Literal["notify", "apply"]
    interval: str = "10m"  # a Compose duration


class TargetSpec(_Strict):
    engine: str = LOCAL


class ManifestSpec(_Strict):
    compose: dict[str, Any] | None = None
    composeFile: str | None = None
    composeFiles: list[str] | None = None  # merged in order, as `docker compose -f a -f b`
    envFile: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    suspend: bool = False
    prune: bool = True
    deletionPolicy: Literal["Delete", "Orphan"] = "Delete"
    profiles: list[str] | None = None  # active Compose profiles; None: COMPOSE_PROFILES
    adopt: bool = False  # take over the objects `docker compose` made in this project
    notify: list[str | NotifySpec] = Field(default_factory=list)
    rollback: RollbackSpec | None = None
    timeout: str | None = None  # a Compose duration: the health wait of this stack
    imageUpdates: ImageUpdatesSpec | None = None
    target: TargetSpec | None = None  # the engine it runs on (default `local`)


class StackManifest(_Strict):
    apiVersion: Literal["stackctl/v1"]
    kind: Literal["Stack"]
    metadata: ManifestMetadata
    spec: ManifestSpec


def load_manifest(
    doc: Document, *, root: Root, file_path: Path, rel: str, claims: set[Path], reach: Reach
) -> Candidate:
    """One ``kind: Stack`` document; compose files it references are added to ``claims``."""
    issues = Issues(file=rel, marks=doc.marks)
    data = doc.data
    name = _readable_name(data, issues)
    candidate = Candidate(
        name, None, issues.errors, issues.warnings, rel, doc.marks.line(("metadata", "name"))
    )
    spec, settings = _read_spec(data, issues, root=root, reach=reach)
    if spec is None or name is None:
        return candidate
    given = [spec.compose is not None, spec.composeFile is not None, spec.composeFiles is not None]
    if sum(given) != 1 or spec.composeFiles == []:
        issues.error(
            ("spec",), "give exactly one of `compose` (inline), `composeFile` or `composeFiles`"
        )
        return candidate
    base_dir = file_path.parent
    files = spec.composeFiles or []
    if files:
        spec = spec.model_copy(update={"composeFile": files[0]})
    compose_doc, compose_issues, compose_dir = _compose_source(
        data, spec, issues=issues, root=root, base_dir=base_dir, claims=claims
    )
    if compose_issues is None:
        return candidate
    overrides = _override_sources(
        files[1:], issues=issues, root=root, base_dir=base_dir, claims=claims
    )
    if overrides is None:
        return candidate
    variables = load_variables(
        root=root,
        issues=issues,
        env=spec.env,
        base_dir=base_dir if spec.envFile is not None else compose_dir,
        env_file=spec.envFile,
        env_file_key=("spec", "envFile"),
        implicit_dotenv=spec.composeFile is not None,
    )
    main_file = realpath(compose_dir / Path(spec.composeFile).name) if spec.composeFile else ""
    _, candidate.stack = compile_stack(
        compose_doc,
        issues=compose_issues,
        root=root,
        base_dir=compose_dir,
        variables=variables,
        source=rel,
        profiles=spec.profiles,
        fixed_name=name,
        settings=settings,
        overrides=overrides,
        main_file=main_file,
    )
    if issues.failed:
        candidate.stack = None
    return candidate


def _read_spec(
    data: Any, issues: Issues, *, root: Root, reach: Reach
) -> tuple[ManifestSpec | None, StackSettings]:
    """The manifest's spec and the stack settings it gives; when the manifest is invalid (its
    errors go to ``issues``), what can still be read of the spec and the default settings."""
    try:
        manifest = StackManifest.model_validate(data)
    except ValidationError as e:
        issues.validation_errors(e)
        # Keep going with what can be read, so the compose part's errors are reported too.
        return _lenient_spec(data), StackSettings()
    delivery = read_delivery(manifest.spec, issues, root=root, reach=reach)
    if delivery is None:
        return _lenient_spec(data), StackSettings()
    target = manifest.spec.target.engine if manifest.spec.target else LOCAL
    if problem := engine_name_problem(target):
        issues.error(("spec", "target", "engine"), problem)
        return _lenient_spec(data), StackSettings()
    settings = StackSettings(
        target=None if target == LOCAL else Target(engine=target),
        labels=manifest.metadata.labels,
        suspend=manifest.spec.suspend,
        prune=manifest.spec.prune,
        deletion_policy=manifest.spec.deletionPolicy,
        adopt=manifest.spec.adopt,
        **delivery,
    )
    return manifest.spec, settings


def _lenient_spec(data: Any) -> ManifestSpec | None:
    """The parts of an invalid manifest's spec that locate and interpolate its compose part."""
    raw = data.get("spec") if isinstance(data, dict) else None
    if not isinstance(raw, dict):
        return None
    keys = ("compose", "composeFile", "composeFiles", "envFile", "env", "profiles")
    parts = {k: raw[k] for k in keys if k in raw}
    try:
        return ManifestSpec.model_validate(parts)
    except ValidationError:
        return None


def _readable_name(data: Any, issues: Issues) -> str | None:
    """The stack name, if there is a valid one, even when the rest of the manifest is wrong:
    a broken manifest still claims its name, so a duplicate elsewhere is still detected."""
    metadata = data.get("metadata") if isinstance(data, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not isinstance(name, str):
        return None
    problem = name_problem(name)
    if problem:
        issues.error(("metadata", "name"), problem)
        return None
    return name


def _compose_source(
    data: dict[str, Any],
    spec: ManifestSpec,
    *,
    issues: Issues,
    root: Root,
    base_dir: Path,
    claims: set[Path],
) -> tuple[Any, Issues | None, Path]:
    """The compose document, the issues view its errors go to, and its folder."""
    if spec.compose is not None:
        inline = data["spec"]["compose"]  # the raw mapping, whose lines the marks know
        return (
            inline,
            issues.scoped(file=issues.file, marks=issues.marks, prefix=("spec", "compose")),
            base_dir,
        )
    try:
        where = root.locate(base=base_dir, ref=str(spec.composeFile))
        text = read_text(where.path)
    except FileProblem as e:
        issues.error(("spec", "composeFile"), f"`{spec.composeFile}`: {e.message}")
        return None, None, base_dir
    claims.add(Path(realpath(where.path)))
    try:
        documents = load_documents(text, file=where.rel)
    except ManifestError as e:
        issues.errors.append(e)
        return None, None, base_dir
    if len(documents) != 1:
        issues.error(
            ("spec", "composeFile"),
            f"`{where.rel}` holds {len(documents)} YAML documents; a compose file holds one",
        )
        return None, None, base_dir
    scoped = issues.scoped(file=where.rel, marks=documents[0].marks)
    if not isinstance(documents[0].data, dict):
        scoped.error(
            (), f"expected a mapping (a compose document), got {type_name(documents[0].data)}"
        )
        return None, None, base_dir
    return documents[0].data, scoped, where.path.parent


def _override_sources(
    refs: list[str], *, issues: Issues, root: Root, base_dir: Path, claims: set[Path]
) -> list[ComposeFile] | None:
    """``composeFiles`` after the first, each relative to the manifest: merged onto the first
    in order (``compose_files``); None when one cannot be read (said at its key)."""
    out: list[ComposeFile] = []
    for index, ref in enumerate(refs, start=1):
        at = ("spec", "composeFiles", index)
        try:
            where = root.locate(base=base_dir, ref=ref)
            text = read_text(where.path)
            documents = load_documents(text, file=where.rel)
        except FileProblem as e:
            issues.error(at, f"`{ref}`: {e.message}")
            return None
        except ManifestError as e:
            issues.errors.append(e)
            return None
        claims.add(Path(realpath(where.path)))
        if len(documents) != 1:
            issues.error(at, f"`{where.rel}` holds {len(documents)} YAML documents; expected one")
            return None
        out.append(ComposeFile(documents[0], where.rel))
    return out
