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
worked out again on every walk (``assembly``), and outcomes are never mutated after loading, so
they can be shared. Loading one entry is ``entries``.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from controller.desired.compact import CompactStack
from controller.desired.desired_stack import DesiredStack
from controller.desired.reach import Reach
from controller.models.errors import ManifestError, TransientError
from controller.sources.loader.assembly import assemble
from controller.sources.loader.cache import LoadCache, move_path
from controller.sources.loader.entries import (
    Outcome,
    has_compose_candidate,
    load_file,
    load_folder,
)
from controller.sources.loader.files import (
    COMPOSE_FILE_NAMES,
    YAML_SUFFIXES,
    find_compose_file,
    is_ignored,
)
from controller.sources.loader.report import LoadResult
from controller.sources.loader.root import Root, one_pass


def load_root(
    root: Path,
    *,
    cache: LoadCache[Outcome | None] | None = None,
    reach: Reach = Reach(),
    compact: bool = False,
) -> LoadResult:
    """Load every source at the top level of the watched directory ``root``; with a
    ``cache`` (kept by the caller between calls, for one ``reach``), only the entries that
    changed. ``reach`` is what its manifests may name outside their compose part (by default
    no destination, no file outside ``root``). With ``compact`` each stack is a
    ``CompactStack`` (``controller.desired.compact``) from the moment its entry is loaded, so
    a walk of 10,000 stacks never holds 10,000 models at once (the watcher's way)."""
    where = Root(root)
    with one_pass(), collector_paused():
        if cache is None:
            return assemble(where, _walk(where, where.given, reach=reach, compact=compact))
        with cache.walk(where, rebase=_rebase):
            return assemble(
                where, _walk(where, where.given, cache, reach=reach, compact=compact)
            )


def _compacted(outcome: Outcome | None) -> Outcome | None:
    """``outcome`` with each valid stack kept as a ``CompactStack``."""
    if outcome is None or not any(c.stack is not None for c in outcome.candidates):
        return outcome
    candidates = [
        replace(c, stack=CompactStack.of(c.stack)) if isinstance(c.stack, DesiredStack) else c
        for c in outcome.candidates
    ]
    return replace(outcome, candidates=candidates)


def _rebase(outcome: Outcome | None, old: str, new: str) -> Outcome | None:
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
    with one_pass(), collector_paused():
        return _load_path(Path(path), root=root, reach=reach)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off during a walk. A load allocates millions of small objects
    (YAML nodes, dicts, models) and keeps the stacks it built, so the collector ran about a
    thousand times in a full load of 1,000 stacks, traversing the stacks loaded so far each
    time: a fifth of the load's time. Loading makes no reference cycles worth collecting
    meanwhile (objects without cycles are freed as usual), and the collector resumes
    afterwards. Left alone when something else has turned it off (which turns it back on).
    The watcher keeps it off over its whole pass: recording thousands of versions while the
    loaded stacks are alive cost as much collection again (a quarter of a pass's CPU at
    10,000 stacks)."""
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
        if not has_compose_candidate(path):
            return assemble(where, _walk(where, Path(os.path.abspath(path)), reach=reach))
        outcome = _load_guarded(where, Path(os.path.abspath(path)), folder=True, reach=reach)
        return assemble(where, [outcome] if outcome is not None else [])
    where = Root(root if root is not None else path.parent)
    outcome = _load_guarded(where, Path(os.path.abspath(path)), folder=False, reach=reach)
    return assemble(where, [outcome] if outcome is not None else [])


def _load_guarded(where: Root, entry: Path, *, folder: bool, reach: Reach) -> Outcome | None:
    """One top-level entry's load; whatever escapes it (a bug of this layer, a file system
    that misbehaves) makes this one source invalid instead of stopping the load of the others,
    except a ``TransientError`` (out of file descriptors: no fault of the source).
    The traceback is logged here, once per load: a cached outcome is not loaded again."""
    try:
        return load_folder(where, entry) if folder else load_file(where, entry, reach=reach)
    except TransientError:
        raise  # the process ran out of something: the whole load fails, to be run again
    except Exception as e:
        import logging  # here: a load that meets no bug never needs it

        source = where.rel(entry)
        logging.getLogger("stackctl.source").exception("internal error while loading %s", source)
        file = source
        if folder:
            with contextlib.suppress(Exception):
                file = where.rel(find_compose_file(entry).path or entry)
        message = f"internal error while loading: {type(e).__name__}: {e}"
        error = ManifestError(file=file, message=message)
        return Outcome(source, "folder" if folder else "manifest", errors=[error])


def _compacted_load(load: Callable[[], Outcome | None]) -> Outcome | None:
    return _compacted(load())


def _listing(directory: Path) -> list[tuple[str, bool]]:
    """The entries of ``directory`` not ignored, by name, each with whether it is a folder (a
    symlink to one included), as ``Path.is_dir`` says, from the listing itself: no ``stat``
    an entry but for symlinks."""
    with os.scandir(directory) as listing:
        found = [(e.name, _is_dir(e)) for e in listing if not is_ignored(e.name)]
    return sorted(found)


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _walk(
    where: Root,
    directory: Path,
    cache: LoadCache[Outcome | None] | None = None,
    *,
    reach: Reach,
    compact: bool = False,
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for name, folder in _listing(directory):
        entry = directory / name
        if not folder and entry.suffix not in YAML_SUFFIXES:
            continue
        load = functools.partial(_load_guarded, where, entry, folder=folder, reach=reach)
        if compact:
            load = functools.partial(_compacted_load, load)
        outcome = load() if cache is None else cache.load((entry.name, folder), load)
        if outcome is not None:
            outcomes.append(outcome)
    claimed = set().union(*(o.claims for o in outcomes))
    return [o for o in outcomes if o.compose_file is None or o.compose_file not in claimed]
