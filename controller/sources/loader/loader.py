"""The walk over a watched root: which entries are sources, and the result of loading them.

Sources (docs/architecture.md, "The flow"), looked for at the top level of the root only:

- ``*.yaml``/``*.yml`` files: manifests (every document has ``kind``: ``Stack``, or
  ``Repository`` for a git repository that is a source of its own), or a plain compose file
  (one document with ``services:`` and no ``kind``) that is the stack named after the file;
- folders holding ``compose.yaml``, ``compose.yml``, ``docker-compose.yaml`` or
  ``docker-compose.yml`` (first one wins, as in Compose): the stack named after the folder.
  A folder (or plain compose file) that is a manifest's ``composeFile`` belongs to that
  manifest and is not a stack of its own.

A plain compose file or a folder's compose file reads the ``.env`` beside it (the root's
``.env`` for a top-level file) for interpolation, as Compose would.

Other files and folders are not sources (folders may hold files that manifests reference);
hidden entries and editor temp files are skipped. Two sources claiming one stack name make
every claimant invalid, never "last one wins". This module must never write anything.

``load_root(root, cache=...)`` reuses the outcome of every top-level entry whose files are
unchanged (``controller.sources.loader.cache``); the claims and name clashes between entries are
worked
out again on every walk, and outcomes are never mutated after loading, so they can be shared.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import os
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from controller.desired.names import normalize_name
from controller.desired.reach import Reach
from controller.desired.repository_spec import RepositorySpec
from controller.models.errors import ManifestError, TransientError
from controller.sources.loader.cache import LoadCache, move_path
from controller.sources.loader.compiler import Candidate, compile_stack
from controller.sources.loader.files import (
    COMPOSE_FILE_NAMES,
    YAML_SUFFIXES,
    FileProblem,
    Root,
    find_compose_file,
    is_ignored,
    one_pass,
    read_text,
    realpath,
)
from controller.sources.loader.issues import Issues, LoadWarning
from controller.sources.loader.manifest import load_manifest
from controller.sources.loader.report import LoadResult, SourceKind, SourceReport
from controller.sources.loader.repository_kind import KIND as REPOSITORY
from controller.sources.loader.repository_kind import declared_kind, load_repository
from controller.sources.loader.variables import load_variables
from controller.sources.loader.yamlload import Document, load_documents

log = logging.getLogger("stackctl.source")


@dataclass
class _Outcome:
    source: str
    kind: SourceKind
    candidates: list[Candidate] = field(default_factory=list)
    errors: list[ManifestError] = field(default_factory=list)  # not tied to one stack
    warnings: list[LoadWarning] = field(default_factory=list)
    claims: set[Path] = field(default_factory=set)
    compose_file: Path | None = None  # the compose file of a folder or plain file (resolved)
    repositories: list[RepositorySpec] = field(default_factory=list)  # `kind: Repository`


def load_root(
    root: Path, *, cache: LoadCache[_Outcome | None] | None = None, reach: Reach = Reach()
) -> LoadResult:
    """Load every source at the top level of the watched directory ``root``; with a
    ``cache`` (kept by the caller between calls, for one ``reach``), only the entries that
    changed. ``reach`` is what its manifests may name outside their compose part (by default
    no destination, no file outside ``root``)."""
    where = Root(root)
    with one_pass(), _collector_paused():
        if cache is None:
            return _assemble(where, _walk(where, where.given, reach=reach))
        with cache.walk(where, rebase=_rebase):
            return _assemble(where, _walk(where, where.given, cache, reach=reach))


def _rebase(outcome: _Outcome | None, old: str, new: str) -> _Outcome | None:
    """A cached outcome as it would load under the root's new real folder (a repository's next
    checkout): its resolved paths moved. One that reported problems loads again (their messages
    may name the old folder); ``None`` (not a source) is loaded again too, it costs nothing."""
    if outcome is None or outcome.errors or outcome.warnings:
        return None
    if any(c.errors or c.warnings for c in outcome.candidates):
        return None
    return replace(
        outcome,
        claims={Path(move_path(str(p), old, new)) for p in outcome.claims},
        compose_file=(
            Path(move_path(str(outcome.compose_file), old, new))
            if outcome.compose_file is not None
            else None
        ),
    )


def load_path(path: Path, *, root: Path | None = None, reach: Reach = Reach()) -> LoadResult:
    """Load one file or one directory.

    A directory is walked like a watched root, unless it holds a compose file: then it is one
    project folder. A file named like a compose file (``compose.yaml``, ...) stands for its
    folder; any other file is a top-level source. ``root`` (the boundary every reference must
    stay inside) defaults to the directory itself, or the file's folder.
    """
    with one_pass(), _collector_paused():
        return _load_path(Path(path), root=root, reach=reach)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off during a walk. A load allocates millions of small objects
    (YAML nodes, dicts, models) and keeps the stacks it built, so the collector ran about a
    thousand times in a full load of 1,000 stacks, traversing the stacks loaded so far each
    time: a fifth of the load's time. Loading makes no reference cycles worth collecting
    meanwhile (objects without cycles are freed as usual), and the collector resumes
    afterwards. Left alone when something else has turned it off (which turns it back on)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _load_path(path: Path, *, root: Path | None, reach: Reach) -> LoadResult:
    if path.name in COMPOSE_FILE_NAMES and os.path.lexists(path):
        path = path.parent
    if path.is_dir():
        where = Root(root if root is not None else path)
        if not _has_compose_candidate(path):
            return _assemble(where, _walk(where, Path(os.path.abspath(path)), reach=reach))
        outcome = _load_guarded(where, Path(os.path.abspath(path)), folder=True, reach=reach)
        return _assemble(where, [outcome] if outcome is not None else [])
    where = Root(root if root is not None else path.parent)
    outcome = _load_guarded(where, Path(os.path.abspath(path)), folder=False, reach=reach)
    return _assemble(where, [outcome] if outcome is not None else [])


def _load_guarded(where: Root, entry: Path, *, folder: bool, reach: Reach) -> _Outcome | None:
    """One top-level entry's load; whatever escapes it (a bug of this layer, a file system
    that misbehaves) makes this one source invalid instead of stopping the load of the others,
    except a ``TransientError`` (out of file descriptors: no fault of the source).
    The traceback is logged here, once per load: a cached outcome is not loaded again."""
    try:
        return _load_folder(where, entry) if folder else _load_file(where, entry, reach=reach)
    except TransientError:
        raise  # the process ran out of something: the whole load fails, to be run again
    except Exception as e:
        source = where.rel(entry)
        log.exception("internal error while loading %s", source)
        file = source
        if folder:
            with contextlib.suppress(Exception):
                file = where.rel(find_compose_file(entry).path or entry)
        message = f"internal error while loading: {type(e).__name__}: {e}"
        error = ManifestError(file=file, message=message)
        return _Outcome(source, "folder" if folder else "manifest", errors=[error])


def _walk(
    where: Root,
    directory: Path,
    cache: LoadCache[_Outcome | None] | None = None,
    *,
    reach: Reach,
) -> list[_Outcome]:
    outcomes: list[_Outcome] = []
    for entry in sorted(directory.iterdir(), key=lambda p: p.name):
        if is_ignored(entry.name):
            continue
        folder = entry.is_dir()
        if not folder and entry.suffix not in YAML_SUFFIXES:
            continue
        load = functools.partial(_load_guarded, where, entry, folder=folder, reach=reach)
        outcome = load() if cache is None else cache.load((entry.name, folder), load)
        if outcome is not None:
            outcomes.append(outcome)
    claimed = set().union(*(o.claims for o in outcomes))
    return [o for o in outcomes if o.compose_file is None or o.compose_file not in claimed]


def _read(where: Root, path: Path, *, issues: Issues) -> list[Document] | None:
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


def _load_file(where: Root, path: Path, *, reach: Reach) -> _Outcome:
    rel = where.rel(path)
    issues = Issues(file=rel)
    documents = _read(where, path, issues=issues)
    documents = [d for d in documents or [] if d.data is not None]
    manifest = any(isinstance(d.data, dict) and "kind" in d.data for d in documents)
    outcome = _Outcome(
        rel, "manifest" if manifest else "compose", errors=issues.errors, warnings=issues.warnings
    )
    if issues.failed:
        return outcome
    if manifest:
        for doc in documents:
            if not isinstance(doc.data, dict) or "kind" not in doc.data:
                Issues(file=rel, marks=doc.marks, errors=outcome.errors).error(
                    (), "every document of a manifest file needs `kind: Stack` or `Repository`"
                )
                continue
            if declared_kind(doc.data) == REPOSITORY:
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


def _has_compose_candidate(folder: Path) -> bool:
    return find_compose_file(folder).path is not None


def _load_folder(where: Root, folder: Path) -> _Outcome | None:
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
    outcome = _Outcome(
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
    outcome.candidates.append(
        _compose_candidate(where, documents[0], rel=rel, source=source, folder=folder, derived=name)
    )
    return outcome


def _compose_candidate(
    where: Root, doc: Document, *, rel: str, source: str, folder: Path, derived: str
) -> Candidate:
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
    )
    line = doc.marks.line(("name",)) if isinstance(doc.data, dict) and "name" in doc.data else None
    return Candidate(name, stack, issues.errors, issues.warnings, rel, line)


def _assemble(where: Root, outcomes: list[_Outcome]) -> LoadResult:
    """The result of a walk. Outcomes may come from the cache: read them, never change them
    (a name clash is added to the errors reported here, not to the candidate)."""
    claimants: dict[str, list[tuple[_Outcome, Candidate]]] = defaultdict(list)
    for outcome in outcomes:
        for candidate in outcome.candidates:
            if candidate.name is not None:
                claimants[candidate.name].append((outcome, candidate))
    clashes: dict[int, ManifestError] = {}  # id(candidate) -> its name clash
    for name, claims in claimants.items():
        if len(claims) < 2:
            continue
        for outcome, candidate in claims:
            others = sorted({o.source for o, c in claims if c is not candidate})
            where_else = (
                ", ".join(f"`{o}`" for o in others)
                if others != [outcome.source]
                else "another document of this file"
            )
            clashes[id(candidate)] = ManifestError(
                file=candidate.name_file,
                line=candidate.name_line,
                path="",
                message=f"stack `{name}` is also defined by {where_else}; "
                "both are invalid until one is renamed or removed",
            )

    def errors_of(candidate: Candidate) -> list[ManifestError]:
        clash = clashes.get(id(candidate))
        return [*candidate.errors, clash] if clash is not None else list(candidate.errors)

    stacks = {}
    sources = {}
    errors: list[ManifestError] = []
    warnings: list[LoadWarning] = []
    repositories, repository_clashes = _repositories(outcomes)
    for outcome in outcomes:
        report = SourceReport(
            source=outcome.source,
            kind=outcome.kind,
            names=[c.name for c in outcome.candidates if c.name is not None],
            repositories=[r.name for r in outcome.repositories],
            errors=[
                *outcome.errors,
                *(e for c in outcome.candidates for e in errors_of(c)),
                *repository_clashes.get(outcome.source, []),
            ],
            warnings=[*outcome.warnings, *(w for c in outcome.candidates for w in c.warnings)],
            stack_errors={c.name: errors_of(c) for c in outcome.candidates if c.name is not None},
        )
        for candidate in outcome.candidates:
            if candidate.stack is not None and not errors_of(candidate):
                stacks[candidate.stack.name] = candidate.stack
        sources[outcome.source] = report
        errors.extend(report.errors)
        warnings.extend(report.warnings)
    return LoadResult(
        root=where.given,
        stacks=stacks,
        errors=errors,
        sources=sources,
        warnings=warnings,
        repositories=repositories,
    )


def _repositories(
    outcomes: list[_Outcome],
) -> tuple[dict[str, RepositorySpec], dict[str, list[ManifestError]]]:
    """The repositories declared once, and an error for each source declaring a repository
    name that another declaration also uses (both are invalid, as for stacks)."""
    declared: dict[str, list[tuple[str, RepositorySpec]]] = defaultdict(list)
    for outcome in outcomes:
        for repository in outcome.repositories:
            declared[repository.name].append((outcome.source, repository))
    unique: dict[str, RepositorySpec] = {}
    clashes: dict[str, list[ManifestError]] = defaultdict(list)
    for name, declarations in declared.items():
        if len(declarations) == 1:
            unique[name] = declarations[0][1]
            continue
        for source, _ in declarations:
            others = sorted({s for s, _ in declarations} - {source}) or ["another document"]
            clashes[source].append(
                ManifestError(
                    file=source,
                    path="metadata.name",
                    message=f"repository `{name}` is also declared by {', '.join(others)};"
                    " both are invalid until one is renamed or removed",
                )
            )
    return unique, clashes
