"""What a load returns: the valid stacks, and per source what it produced and what is wrong.

Plain values only; this module must never load anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from controller.desired.compact import Loaded
from controller.models.errors import ManifestError
from controller.sources.loader.issues import LoadWarning

if TYPE_CHECKING:  # the model loads with a `kind: Repository` document
    from controller.desired.repository_spec import RepositorySpec

SourceKind = Literal["manifest", "folder", "compose"]


@dataclass(frozen=True)
class SourceReport:
    """One source (a file or a project folder, root-relative posix path).

    ``names`` are the stacks it produced or tried to (empty when no name could be read);
    ``stack_errors`` splits ``errors`` by stack name where an error belongs to one stack (a
    multi-document manifest); errors of the file as a whole are in ``errors`` only.
    """

    source: str
    kind: SourceKind
    names: list[str] = field(default_factory=list)
    repositories: list[str] = field(default_factory=list)  # `kind: Repository` names
    errors: list[ManifestError] = field(default_factory=list)
    warnings: list[LoadWarning] = field(default_factory=list)
    stack_errors: dict[str, list[ManifestError]] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class LoadResult:
    root: Path
    # The models, or ``CompactStack``s when the load was asked to keep them compact.
    stacks: dict[str, Loaded] = field(default_factory=dict)
    errors: list[ManifestError] = field(default_factory=list)
    sources: dict[str, SourceReport] = field(default_factory=dict)
    warnings: list[LoadWarning] = field(default_factory=list)
    # Git repositories declared by `kind: Repository` manifests (name -> spec), valid ones only.
    repositories: dict[str, RepositorySpec] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def invalid_names(self) -> set[str]:
        """Stack names that some source claims but that did not load (keep their last good
        version running)."""
        claimed = {name for report in self.sources.values() for name in report.names}
        return claimed - set(self.stacks)

    @property
    def files(self) -> dict[str, bytes]:
        """The secret/config bytes of every valid stack, by content hash."""
        merged: dict[str, bytes] = {}
        for stack in self.stacks.values():
            merged.update(stack.files)
        return merged
