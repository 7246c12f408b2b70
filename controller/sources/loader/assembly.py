"""The result of a walk: the outcomes of the root's entries put together into one
``LoadResult``, a stack or repository name claimed by two sources an error of both.

Worked out again on every walk (cheap), from outcomes that may come from the cache and are
never changed here.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from controller.models.errors import ManifestError
from controller.sources.loader.compiler import Candidate
from controller.sources.loader.entries import Outcome
from controller.sources.loader.issues import LoadWarning
from controller.sources.loader.report import LoadResult, SourceReport
from controller.sources.loader.root import Root

if TYPE_CHECKING:  # the model loads with a `kind: Repository` document
    from controller.desired.repository_spec import RepositorySpec


def assemble(where: Root, outcomes: list[Outcome]) -> LoadResult:
    """The result of a walk. Outcomes may come from the cache: read them, never change them
    (a name clash is added to the errors reported here, not to the candidate)."""
    clashes = _name_clashes(outcomes)

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
    outcomes: list[Outcome],
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


def _name_clashes(outcomes: list[Outcome]) -> dict[int, ManifestError]:
    """An error for each stack candidate whose name another candidate also claims, by the
    candidate's ``id`` (both are invalid, never "last one wins")."""
    claimants: dict[str, list[tuple[Outcome, Candidate]]] = defaultdict(list)
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
    return clashes
