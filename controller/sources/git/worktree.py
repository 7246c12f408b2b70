"""Which commit a stack's source file comes from, read from a git work tree without executing
anything the repository configures.

The watched directory may be a checkout someone else controls. ``git status`` runs
``core.fsmonitor`` and clean filters from ``.git/config`` and ``.gitattributes``: programs of the
repository's choosing, run as the controller's user. So git is asked only things that execute
nothing: ``git log`` for the last commit touching the path, ``git ls-tree`` for what that commit
holds, ``git hash-object --no-filters`` for what the disk holds, ``git check-ignore`` for what git
would not track. Every call also disables fsmonitor, hooks, the pager and optional locks.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

_SAFE = (
    "--no-pager",
    "-c", "core.fsmonitor=false",
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.untrackedCache=false",
)  # fmt: skip
_ENV = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat"}


def git_metadata(root: Path, source: str, *, in_git: bool | None = None) -> dict[str, str]:
    """The last commit touching ``source`` when ``root`` is in a git work tree, else nothing.
    A file with uncommitted changes says so in the subject rather than credit the commit.
    ``in_git``: ``maybe_work_tree(root)`` when the caller knows it already (once for the
    thousands of versions one pass may record), else looked up here."""
    if not source or not (maybe_work_tree(root) if in_git is None else in_git):
        return {}
    log_out = _git(root, "log", "-1", "--format=%H%x00%an <%ae>%x00%s", "--", source)
    parts = (log_out or "").split("\x00")
    if len(parts) != 3:
        return {}
    commit, author, subject = parts
    if _uncommitted(root, source):
        subject = f"(uncommitted changes on top of) {subject}"
    return {"git_commit": commit, "git_author": author, "git_subject": subject}


def maybe_work_tree(root: Path) -> bool:
    """Whether git could find a repository for ``root``: a ``.git`` in it or above it, or
    ``GIT_DIR`` set. A few ``stat`` calls spare every record outside git a ``git`` process."""
    if "GIT_DIR" in os.environ:
        return True
    folder = os.path.abspath(root)  # strings, not Paths: asked once per recorded version
    while True:
        if os.path.exists(os.path.join(folder, ".git")):
            return True
        parent = os.path.dirname(folder)
        if parent == folder:
            return False
        folder = parent


def _uncommitted(root: Path, source: str) -> bool:
    """Whether the files at ``source`` (a file or a stack folder) differ from ``HEAD``:
    changed, added (not ignored) or deleted, compared by blob hash without any filter."""
    committed = {}
    for line in (_git(root, "ls-tree", "-r", "HEAD", "--", source) or "").splitlines():
        meta, _, path = line.partition("\t")
        committed[path] = meta.split()[-1]
    on_disk = _files(root, source)
    ignored = set(_lines(_git(root, "check-ignore", "--no-index", "--stdin", stdin=on_disk)))
    tracked = [p for p in on_disk if p not in ignored or p in committed]
    hashes = _lines(_git(root, "hash-object", "--no-filters", "--stdin-paths", stdin=tracked))
    if len(hashes) != len(tracked):
        return True  # git could not hash them all: do not credit the commit
    return dict(zip(tracked, hashes, strict=True)) != committed


def _files(root: Path, source: str) -> list[str]:
    """Paths (relative to ``root``, as git prints them) of the regular files at ``source``."""
    top = root / source
    if top.is_file():
        return [source]
    found = []
    for folder, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            path = Path(folder, name)
            if path.is_file() and not path.is_symlink():
                found.append(path.relative_to(root).as_posix())
    return sorted(found)


def _lines(text: str | None) -> list[str]:
    return [line for line in (text or "").splitlines() if line]


def _git(root: Path, *args: str, stdin: list[str] | None = None) -> str | None:
    """git's stripped output, or ``None`` when git is missing, fails or hangs."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), *_SAFE, *args],
            input="".join(f"{line}\n" for line in stdin) if stdin is not None else None,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
            env={**os.environ, **_ENV},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    # check-ignore exits 1 when nothing is ignored: an answer, not a failure.
    ok = out.returncode == 0 or (args[:1] == ("check-ignore",) and out.returncode == 1)
    return out.stdout.strip() if ok else None
