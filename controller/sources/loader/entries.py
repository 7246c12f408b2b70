"""One top-level entry of a watched root, loaded: a manifest file, a plain compose file or a
project folder, to an ``Outcome`` (its stack candidates, repositories, problems and claims).

``loader`` walks the root and calls these; ``assembly`` puts the outcomes together. Outcomes may
be cached (``cache``) and shared between walks: nothing changes one after it is returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from controller.desired.names import normalize_name
from controller.desired.reach import Reach
from controller.models.errors import ManifestError
from controller.sources.loader.compiler import Candidate, compile_stack
from controller.sources.loader.compose_scope import OVERRIDE_FILE_NAMES, ComposeFile
from controller.sources.loader.files import (
    FileProblem,
    entry_state,
    find_compose_file,
    read_text,
)
from controller.sources.loader.issues import Issues, LoadWarning
from controller.sources.loader.manifest import load_manifest
from controller.sources.loader.report import SourceKind
from controller.sources.loader.root import Root, realpath
from controller.sources.loader.variables import load_variables
from controller.sources.loader.yamlload import Document, load_documents

if TYPE_CHECKING:
    from controller.desired.repository_spec import RepositorySpec

# The kind ``repository_kind.py`` loads: imported for such a document only (its models are a
# cost every load of stacks alone would pay).
REPOSITORY = "Repository"


@dataclass
class Outcome:
    """What loading one top-level entry gave (read by ``assembly``, never changed)."""

    source: str
    kind: SourceKind
    candidates: list[Candidate] = field(default_factory=list)
    errors: list[ManifestError] = field(default_factory=list)  # not tied to one stack
    warnings: list[LoadWarning] = field(default_factory=list)
    claims: set[Path] = field(default_factory=set)
    compose_file: Path | None = None  # the compose file of a folder or plain file (resolved)
    repositories: list[RepositorySpec] = field(default_factory=list)  # `kind: Repository`


def _read(where: Root, path: Path, *, issues: Issues) -> list[Document] | None:
    """The YAML documents of ``path``, or ``None`` with the reason in ``issues``."""
    rel = issues.file
    try:
        where.locate(base=where.given, ref=str(path))
        text = read_text(path)
        return load_documents(text, file=rel)
    except FileProblem as e:
        issues.error((), e.message)
    except ManifestError as e:
        issues.errors.append(e)
    return None


def load_file(where: Root, path: Path, *, reach: Reach) -> Outcome:
    """A top-level YAML file: a manifest (every document has ``kind``) or a plain compose file
    (one document with ``services:``), the stack named after the file."""
    rel = where.rel(path)
    issues = Issues(file=rel)
    documents = _read(where, path, issues=issues)
    documents = [d for d in documents or [] if d.data is not None]
    manifest = any(isinstance(d.data, dict) and "kind" in d.data for d in documents)
    outcome = Outcome(
        rel, "manifest" if manifest else "compose", errors=issues.errors, warnings=issues.warnings
    )
    if issues.failed:
        return outcome
    if manifest:
        _load_manifests(where, path, documents, outcome=outcome, reach=reach)
    elif (
        len(documents) == 1
        and isinstance(documents[0].data, dict)
        and "services" in documents[0].data
    ):
        outcome.compose_file = Path(realpath(path))
        outcome.candidates.append(
            _compose_candidate(
                where,
                documents[0],
                rel=rel,
                source=rel,
                folder=path.parent,
                derived=normalize_name(path.stem),
            )
        )
    elif not documents:
        issues.error((), "empty file: neither a Stack manifest nor a compose file")
    else:
        issues.error(
            (),
            "neither a Stack manifest (`kind: Stack`) nor a compose file "
            "(one document with `services:`)",
        )
    return outcome


def _load_manifests(
    where: Root, path: Path, documents: list[Document], *, outcome: Outcome, reach: Reach
) -> None:
    """A manifest file's documents, each a ``kind: Stack`` (a candidate) or a ``kind:
    Repository``, into ``outcome``; a document without ``kind`` is an error of the file."""
    rel = outcome.source
    for doc in documents:
        if not isinstance(doc.data, dict) or "kind" not in doc.data:
            Issues(file=rel, marks=doc.marks, errors=outcome.errors).error(
                (), "every document of a manifest file needs `kind: Stack` or `Repository`"
            )
            continue
        if declared_kind(doc.data) == ACCESS_POLICY:  # never from what a push can change
            Issues(file=rel, marks=doc.marks, errors=outcome.errors).error(
                ("kind",),
                "kind: AccessPolicy is read from the operator's own file only"
                " (--access-policy / STACKCTL_ACCESS_POLICY), never from the watched folder or"
                " a repository: whoever may push a manifest must not grant themselves access",
            )
            continue
        if declared_kind(doc.data) == REPOSITORY:
            from controller.sources.loader.repository_kind import load_repository

            doc_issues = Issues(file=rel, marks=doc.marks, errors=outcome.errors)
            repository = load_repository(
                doc, file_path=path, issues=doc_issues, root=where, reach=reach
            )
            if repository is not None:
                outcome.repositories.append(repository)
            continue
        outcome.candidates.append(
            load_manifest(
                doc, root=where, file_path=path, rel=rel, claims=outcome.claims, reach=reach
            )
        )


ACCESS_POLICY = "AccessPolicy"


def declared_kind(data: Any) -> str | None:
    """The ``kind`` of a manifest document, when it is a string."""
    kind = data.get("kind") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else None


def has_compose_candidate(folder: Path) -> bool:
    """Whether ``folder`` holds a compose file (then it is a project folder, not a root)."""
    return find_compose_file(folder).path is not None


def load_folder(where: Root, folder: Path) -> Outcome | None:
    """A project folder: None when it holds no compose candidate at all (a folder of files
    that manifests reference). A candidate that is there but cannot be read as a compose file
    makes the folder an invalid source under its own key, the one its versions record, so
    the watcher keeps its stack running rather than count it as removed."""
    lookup = find_compose_file(folder)
    compose_file = lookup.path
    if compose_file is None:
        return None
    source = where.rel(folder)
    rel = where.rel(compose_file)
    issues = Issues(file=rel)
    outcome = Outcome(
        source,
        "folder",
        errors=issues.errors,
        warnings=issues.warnings,
        compose_file=Path(realpath(compose_file)),
    )
    for name in lookup.shadowed:
        issues.warn((), f"`{name}` is ignored: `{compose_file.name}` comes first")
    if lookup.problem is not None:
        issues.error(
            (),
            f"`{compose_file.name}` is {lookup.problem}; the folder cannot be read as a stack",
        )
        return outcome
    documents = _read(where, compose_file, issues=issues)
    if documents is None:
        return outcome
    if len(documents) != 1:
        issues.error((), f"{len(documents)} YAML documents; a compose file holds one")
        return outcome
    name = normalize_name(folder.name if source != "." else where.given.name)
    overrides = _override_files(where, folder, issues=issues)
    if overrides is None:
        return outcome
    outcome.candidates.append(
        _compose_candidate(
            where,
            documents[0],
            rel=rel,
            source=source,
            folder=folder,
            derived=name,
            overrides=overrides,
            main_file=str(outcome.compose_file),
        )
    )
    return outcome


def _override_files(where: Root, folder: Path, *, issues: Issues) -> list[ComposeFile] | None:
    """The folder's override file, merged as ``docker compose`` merges it when no ``-f`` is
    given: the first of ``compose.override.yml``, ``compose.override.yaml``,
    ``docker-compose.override.yml``, ``docker-compose.override.yaml`` (whatever the compose
    file's name; Compose warns about the others, so do we). Its absence is a probe too: one
    created later loads the folder again. None: it cannot be read (said in ``issues``)."""
    present = [n for n in OVERRIDE_FILE_NAMES if entry_state(folder / n) != "missing"]
    if not present:
        return []
    for name in present[1:]:
        issues.warn((), f"`{name}` is ignored: `{present[0]}` is the override file")
    path = folder / present[0]
    scoped = issues.scoped(file=where.rel(path), marks=None)
    documents = _read(where, path, issues=scoped)
    if documents is None:
        return None
    if len(documents) != 1:
        scoped.error((), f"{len(documents)} YAML documents; a compose file holds one")
        return None
    return [ComposeFile(documents[0], where.rel(path))]


def _compose_candidate(
    where: Root,
    doc: Document,
    *,
    rel: str,
    source: str,
    folder: Path,
    derived: str,
    overrides: list[ComposeFile] | None = None,
    main_file: str = "",
) -> Candidate:
    """A compose document as a stack candidate: its ``.env`` read, its name ``derived`` unless it
    says ``name:``; ``overrides`` merged onto it."""
    issues = Issues(file=rel, marks=doc.marks)
    variables = load_variables(
        root=where, issues=issues, env={}, base_dir=folder, implicit_dotenv=True
    )
    name, stack = compile_stack(
        doc.data,
        issues=issues,
        root=where,
        base_dir=folder,
        variables=variables,
        source=source,
        source_dir=where.rel(folder),
        derived_name=derived,
        overrides=overrides,
        main_file=main_file,
    )
    line = doc.marks.line(("name",)) if isinstance(doc.data, dict) and "name" in doc.data else None
    return Candidate(name, stack, issues.errors, issues.warnings, rel, line)
