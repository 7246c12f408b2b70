"""What putting a stack's compose files together shares (``compose_files``, ``compose_extends``):
the files, the project being assembled (its folder, its variables, the files including it),
where problems go, and reading one further compose file through the root (so that it is a
probe of the load: ``cache`` loads the stack again when it changes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from controller.models.errors import ManifestError
from controller.sources.loader.compose_merge import MergeError, merge_documents
from controller.sources.loader.files import FileProblem, read_text
from controller.sources.loader.issues import Issues
from controller.sources.loader.root import Root, RootPath, realpath
from controller.sources.loader.yamlload import Document, load_documents
from controller.sources.loader.yamlmarks import KeyPath

# Compose v2's names for the override file it merges by default (cli/options.go), in order.
OVERRIDE_FILE_NAMES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)


@dataclass(frozen=True)
class ComposeFile:
    """A further compose file of a stack, merged onto the main one: its document, its
    root-relative name (for messages)."""

    document: Document
    rel: str


@dataclass
class Assembly:
    """What putting one stack's files together shares: where files are, the variables, where
    problems go, the NUL strings seen, the schema's refusals."""

    root: Root
    variables: Mapping[str, str]
    issues: Issues  # the main file's
    nul: list[tuple[KeyPath, str]] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)

    def scoped(self, rel: str, document: Document) -> Issues:
        return self.issues.scoped(file=rel, marks=document.marks)


@dataclass(frozen=True)
class Scope:
    """One project being put together: the folder its relative paths start from, its
    variables, and the files including it (real paths, for cycles)."""

    folder: Path
    variables: Mapping[str, str]
    including: tuple[str, ...] = ()


def merge_into(base: dict[str, Any], more: dict[str, Any], *, issues: Issues) -> dict[str, Any]:
    """``more`` merged onto ``base``; a shape Compose cannot merge is an error of ``more``."""
    try:
        return merge_documents(base, more)
    except MergeError as e:
        issues.error(e.path, e.message)
        return base


def read_compose_file(
    ref: str, *, base: Path, assembly: Assembly, issues: Issues, at: KeyPath
) -> tuple[RootPath, Document] | None:
    """The one YAML document of the compose file ``ref`` (relative to ``base``), or None with
    the problem at ``at`` of ``issues``, naming the file."""
    try:
        where = assembly.root.locate(base=base, ref=ref)
        text = read_text(where.path)
    except FileProblem as e:
        issues.error(at, f"`{ref}`: {e.message}")
        return None
    try:
        documents = load_documents(text, file=where.rel)
    except ManifestError as e:
        issues.errors.append(e)
        return None
    if len(documents) != 1:
        issues.error(at, f"`{where.rel}` holds {len(documents)} YAML documents; expected one")
        return None
    return where, documents[0]


def real(where: RootPath) -> str:
    """The real path of a located file: one file however it is reached, for cycles."""
    return realpath(where.path)
