"""What the watcher decides from one pass: the load result, what the database knows and what
the watcher already said in; the changes to carry out (and what it will then have said) out.

``detect`` is pure: it reads no clock, no file and no database, so it is tested with tables
(tests/watcher/test_watcher_detects_changes_table.py); ``Watcher`` gathers its inputs and carries
the changes out. It must never do I/O: what it needs (each gone stack's deletion policy, read
from its latest stored version) comes in as plain values.

Safety, because a watcher that deletes on a misread is worse than none:
- an invalid source is said once per distinct set of errors and changes nothing: its stacks
  (the ones recorded from it, when the broken file no longer says which it holds) keep their
  last good version;
- a stack is gone only when its source is gone or, valid, no longer declares it; then it is
  deleted (``deletionPolicy: Delete``) or let go (``Orphan``);
- a missing or unreadable root, or one that suddenly yields no stacks while the database knows
  some, deletes nothing and is said once, unless ``allow_empty``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple, Protocol

from controller.desired.compact import Loaded
from controller.models import CommandStatus, CommandType, VersionHead
from controller.models.errors import ManifestError
from controller.sources.loader import LoadResult, LoadWarning


class Current(Protocol):
    """What ``detect`` reads of a known stack (a ``Stack`` has it; the watcher passes
    ``CurrentVersion``s: 10,000 ``Stack`` models were 15 MB a pass)."""

    @property
    def current_version(self) -> str | None: ...


class CurrentVersion(NamedTuple):
    current_version: str | None


@dataclass(frozen=True)
class Known:
    """What the database knows, read once per pass in a few queries (not a few per stack: a
    pass over 1,000 unchanged stacks must stay cheap)."""

    heads: Mapping[str, VersionHead]  # each stack's latest version
    stacks: Mapping[str, Current]  # ``Stack``s, or only their ``CurrentVersion``
    newest: Mapping[str, tuple[CommandType, CommandStatus]]  # each stack's newest command
    # The deletion policy of the latest version of each stack that ``to_delete`` names (read
    # only for those: loading every stored version at every pass would not stay cheap).
    policies: Mapping[str, str] = field(default_factory=dict)


NOTHING_KNOWN = Known(heads={}, stacks={}, newest={})


@dataclass(frozen=True)
class Said:
    """What the watcher already said, so that it says each thing once, not at every pass."""

    errors: Mapping[str, str] = field(default_factory=dict)  # source -> fingerprint
    warnings: Mapping[str, str] = field(default_factory=dict)  # source -> fingerprint
    empty_root: bool = False  # a DeletionRefused was said and still holds


@dataclass(frozen=True)
class Settings:
    root: Path  # absolute; stacks whose latest version was recorded from it are its own
    allow_empty: bool = False  # a root that yields no stacks may delete them all


# -- the changes, in the order ``detect`` returns them -----------------------------------------


@dataclass(frozen=True)
class ManifestFixed:
    """A source that was reported invalid loads again."""

    source: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class ManifestInvalid:
    """A source has errors not reported yet; its stacks keep their last good version."""

    source: str
    names: tuple[str, ...]  # what it declares, or (unreadable) what was recorded from it
    errors: tuple[ManifestError, ...]


@dataclass(frozen=True)
class ManifestWarned:
    """A source loaded with warnings not reported yet."""

    source: str
    names: tuple[str, ...]
    warnings: tuple[LoadWarning, ...]


@dataclass(frozen=True)
class NewVersion:
    """A digest differs from the latest version's (or the stack is new): record it, apply it."""

    desired: Loaded  # the model, or kept compact (the watcher's loads)


@dataclass(frozen=True)
class ManifestRestored:
    """An unchanged manifest of a stack let go (orphaned, or being deleted) is back: adopt it."""

    name: str


@dataclass(frozen=True)
class StackGone:
    """A stack of this root is no longer declared: delete it, or let it go (``Orphan``)."""

    name: str
    policy: str  # "Delete" or "Orphan"


@dataclass(frozen=True)
class DeletionRefused:
    """The root is missing, unreadable or suddenly empty: nothing is deleted."""

    message: str


Change = (
    ManifestFixed
    | ManifestInvalid
    | ManifestWarned
    | NewVersion
    | ManifestRestored
    | StackGone
    | DeletionRefused
)


@dataclass(frozen=True)
class Detected:
    changes: list[Change]
    said: Said  # what will have been said once ``changes`` are carried out
    kept: tuple[str, ...] | None  # stacks kept because their source is broken (None: no load)


# -- deciding ----------------------------------------------------------------------------------


def detect(
    loaded: LoadResult | None,
    known: Known,
    *,
    said: Said,
    settings: Settings,
    elsewhere: Mapping[str, str] | None = None,
) -> Detected:
    """The changes one pass makes. ``loaded`` is ``None`` when the root is missing or
    unreadable (then ``known`` is not looked at). ``elsewhere`` names the stacks another source
    (the watched directory, a repository) declares, with that source: a stack both declare is
    invalid here (and there), and a stack of this root that only the other declares now is
    handed over, not deleted."""
    elsewhere = elsewhere or {}
    if loaded is not None and elsewhere:
        loaded = exclude_claimed(loaded, elsewhere)
    if loaded is None:
        message = f"the watched directory {settings.root} is missing or unreadable"
        return Detected(
            changes=_refuse(message, said),
            said=Said(errors=said.errors, warnings=said.warnings, empty_root=True),
            kept=None,
        )
    errors = dict(said.errors)
    warnings = {s: f for s, f in said.warnings.items() if s in loaded.sources}
    changes: list[Change] = [*_errors(loaded, known, errors), *_warnings(loaded, warnings)]
    changes += _versions(loaded, known)
    kept, missing = _sort_out(loaded, known, root=settings.root, elsewhere=elsewhere)
    empty_root = False
    if missing and _refused(loaded, settings):
        changes += _refuse(
            f"{settings.root} yields no stacks while {len(missing)} were recorded from it;"
            " deleting nothing (--allow-empty permits it)",
            said,
        )
        empty_root = True
    elif missing:
        changes += [StackGone(n, known.policies.get(n, "Delete")) for n in sorted(missing)]
    return Detected(
        changes=changes,
        said=Said(errors=errors, warnings=warnings, empty_root=empty_root),
        kept=tuple(kept),
    )


def to_delete(
    loaded: LoadResult,
    known: Known,
    *,
    settings: Settings,
    elsewhere: Mapping[str, str] | None = None,
) -> list[str]:
    """The stacks ``detect`` will find gone (sorted): the ones whose policy it needs."""
    if elsewhere:
        loaded = exclude_claimed(loaded, elsewhere)
    _, missing = _sort_out(loaded, known, root=settings.root, elsewhere=elsewhere or {})
    return [] if _refused(loaded, settings) else sorted(missing)


def exclude_claimed(loaded: LoadResult, elsewhere: Mapping[str, str]) -> LoadResult:
    """``loaded`` with every stack that another source also declares made invalid: out of
    ``stacks``, and an error on its source naming the other one (as for two files of one root
    declaring one name: neither wins)."""
    clashing = {
        name for report in loaded.sources.values() for name in report.names if name in elsewhere
    }
    if not clashing:
        return loaded
    sources = {}
    added_all: list[ManifestError] = []
    for source, report in loaded.sources.items():
        mine = [name for name in report.names if name in clashing]
        if not mine:
            sources[source] = report
            continue
        added = [
            ManifestError(
                file=source,
                path="",
                message=f"stack `{name}` is also declared by {elsewhere[name]}; both are"
                " invalid until one of them stops declaring it",
            )
            for name in mine
        ]
        added_all += added
        stack_errors = dict(report.stack_errors)
        for name, error in zip(mine, added, strict=True):
            stack_errors[name] = [*stack_errors.get(name, []), error]
        sources[source] = replace(
            report, errors=[*report.errors, *added], stack_errors=stack_errors
        )
    return replace(
        loaded,
        stacks={n: s for n, s in loaded.stacks.items() if n not in clashing},
        sources=sources,
        errors=[*loaded.errors, *added_all],
    )


def _errors(loaded: LoadResult, known: Known, said: dict[str, str]) -> list[Change]:
    changes: list[Change] = []
    for source, report in loaded.sources.items():
        if not report.errors:
            if said.pop(source, None) is not None:
                changes.append(ManifestFixed(source, tuple(report.names)))
            continue
        if not _new_to_say(said, source, [e.render() for e in report.errors]):
            continue  # already said; don't repeat it at every scan
        names = report.names or _stacks_from(source, known)
        changes.append(ManifestInvalid(source, tuple(names), tuple(report.errors)))
    return changes


def _warnings(loaded: LoadResult, said: dict[str, str]) -> list[Change]:
    """What a source's load accepted but flagged (an unset variable, an ignored key)."""
    changes: list[Change] = []
    for source, report in loaded.sources.items():
        rendered = [w.render() for w in report.warnings]
        if _new_to_say(said, source, rendered) and rendered:
            changes.append(ManifestWarned(source, tuple(report.names), tuple(report.warnings)))
    return changes


def _versions(loaded: LoadResult, known: Known) -> list[Change]:
    changes: list[Change] = []
    for desired in loaded.stacks.values():
        latest = known.heads.get(desired.name)
        if latest is not None and latest.digest == desired.digest:
            if _let_go(desired.name, known):
                changes.append(ManifestRestored(desired.name))
            continue  # unchanged: record nothing (and ask git nothing)
        changes.append(NewVersion(desired))
    return changes


def _sort_out(
    loaded: LoadResult, known: Known, *, root: Path, elsewhere: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """This root's stacks that no source loaded: kept (their source is broken, not gone) and
    missing (gone, and not let go already). A stack another source declares now is neither:
    that source records it next (a manifest moved from the folder to a repository)."""
    present = set(loaded.stacks) | loaded.invalid_names | set(elsewhere)
    kept: list[str] = []
    missing: list[str] = []
    for name in _known_stacks(known, root=root):
        if name in present:
            continue
        source = known.heads[name].source
        if source and source in loaded.sources and loaded.sources[source].errors:
            kept.append(name)
        elif not _let_go(name, known):
            missing.append(name)
    return kept, missing


def _refused(loaded: LoadResult, settings: Settings) -> bool:
    """A root that suddenly yields nothing is more likely misread than emptied on purpose."""
    return not loaded.stacks and not loaded.invalid_names and not settings.allow_empty


def _refuse(message: str, said: Said) -> list[Change]:
    return [] if said.empty_root else [DeletionRefused(message)]


def _known_stacks(known: Known, *, root: Path) -> list[str]:
    """Stacks this root produced (their latest version was recorded from it). Stacks
    recorded from elsewhere (``stackctl apply`` of another folder) are never deleted by
    this watcher."""
    return [name for name, head in known.heads.items() if head.root == str(root)]


def _let_go(name: str, known: Known) -> bool:
    """Orphaned (no current version), or a DELETE queued or done since the last change."""
    stack = known.stacks.get(name)
    if stack is None or stack.current_version is None:
        return True
    newest = known.newest.get(name)
    return (
        newest is not None
        and newest[0] is CommandType.DELETE_STACK
        and newest[1] is not CommandStatus.FAILED
    )


def _stacks_from(source: str, known: Known) -> list[str]:
    """Stacks whose latest version came from ``source`` (when the file no longer says)."""
    return [name for name, head in known.heads.items() if head.source == source]


def _new_to_say(said: dict[str, str], source: str, rendered: list[str]) -> bool:
    """Whether ``rendered`` differs from what was last said of ``source`` (and remember it):
    problems are reported once per distinct set, not at every pass."""
    fingerprint = "\n".join(rendered)
    if said.get(source, "") == fingerprint:
        return False
    said[source] = fingerprint
    return True
