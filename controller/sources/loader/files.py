"""Files of the watched root: which ones count, how they are read, and what a load looked at.

Owns the discovery ignore rules (hidden files, editor temp files), the 1 MiB size limit and the
binary-content check. It must never write, never open anything but a regular file (a FIFO would
block the load), and never consult the process environment (the age key's fingerprint, a probe
of a load that decrypted a SOPS file, is ``controller.sources.secrets``'s to take). Where a
referenced path may point (confined to the root, symlinks included) is ``root``.

Every look at the file system made while loading goes through this module (``read_bytes``,
``exists``, ``is_file``, ``is_dir``, ``entry_state``) or ``root`` (``realpath``,
``Root.locate``) and is noted as a *probe* (``seen``) when a ``recording()`` is active: what was
asked and what was seen (a file's content by its SHA-256). ``still_true(probes)`` asks again;
when every answer is the same, loading the source again would give the same result, which is
what lets the watcher reload only what changed (``controller.sources.loader.cache``). Contents
are compared, not modification times: two writes of the same size within one clock tick keep
the mtime, not the content.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from controller.models.errors import TransientError
from controller.sources.secrets.sops import key_fingerprint

MAX_FILE_BYTES = 1024 * 1024
COMPOSE_FILE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
YAML_SUFFIXES = (".yaml", ".yml")
# The process or the machine is out of something (file descriptors, memory): no fault of the
# file, and gone later. Reported as the file's problem, the manifest would be "invalid" and its
# change unrecorded until the next write; raised as ``TransientError``, the whole pass fails and
# the watcher runs it again (issue 24).
_EXHAUSTED = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS})


class FileProblem(Exception):
    """A referenced file that cannot be used; ``message`` is meant for people."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def check_path_text(text: str) -> None:
    """Refuse a path no file system can hold (the OS calls raise ``ValueError`` on it)."""
    if "\x00" in text:
        raise FileProblem("the path contains a NUL byte")


def is_ignored(name: str) -> bool:
    """Editor droppings and hidden entries are never sources (vim writes ``4913`` to probe)."""
    return (
        name.startswith(".")
        or name.endswith(("~", ".tmp", ".swp"))
        or (name.startswith("#") and name.endswith("#"))
        or name == "4913"
    )


def read_bytes(path: Path) -> bytes:
    """Read a regular file of at most 1 MiB."""
    try:
        data, before = _read_bytes(path)
    except FileProblem as e:
        seen("file", path, value=f"problem: {e.message}")
        raise
    digest = hashlib.sha256(data).hexdigest()
    _remember(str(path), before, digest)
    seen("file", path, value=digest)
    return data


# -- a settled file is not read again to know it is unchanged ---------------------------------

# A file's content hash, kept with the ``stat`` taken before it was read: while a later ``stat``
# is the same (device, inode, size, mtime, ctime), the content is too, provided the file had
# been still for ``SETTLED_NS`` when it was read (git's "racily clean" rule): a write after the
# read then moves the ctime, which no one can set back. A file changed less than that before
# its read is read again at every look. The watcher's pass over 10,000 unchanged manifests read
# and hashed every one of them (2 s of CPU); now it stats them.
SETTLED_NS = 2_000_000_000
_MAX_REMEMBERED = 100_000
Signature = tuple[int, int, int, int, int]
_settled: dict[str, tuple[Signature, str]] = {}


def _signature(st: os.stat_result) -> Signature:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _remember(path: str, before: os.stat_result, digest: str) -> None:
    """Keep ``digest`` for ``path`` if the file was settled when read (``before`` its read)."""
    if time.time_ns() - max(before.st_mtime_ns, before.st_ctime_ns) < SETTLED_NS:
        _settled.pop(path, None)
        return
    if len(_settled) >= _MAX_REMEMBERED:
        _settled.clear()  # files come and go: forget them all now and then
    _settled[path] = (_signature(before), digest)


def _read_bytes(path: Path) -> tuple[bytes, os.stat_result]:
    """Only a regular file is opened, and without blocking: a FIFO (or a device) put where a
    file was expected would block a blocking ``open`` until a writer comes. The kind is checked
    before opening and again on the opened file, so a swap in between cannot slip through.
    Returns the bytes and the file's ``stat`` taken before opening it."""
    check_path_text(str(path))
    before = _stat(path)
    kind = _kind(before)
    if kind != "file":
        raise FileProblem("file not found" if kind is None else f"not a regular file ({kind})")
    assert before is not None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError as e:
        raise FileProblem("file not found") from e
    except OSError as e:
        raise _cannot_read(e, path) from e
    with os.fdopen(fd, "rb") as opened:
        opened_stat = os.fstat(fd)
        kind = _kind(opened_stat)
        if kind != "file":
            raise FileProblem(f"not a regular file ({kind})")
        if opened_stat.st_size > MAX_FILE_BYTES:
            raise FileProblem(f"file is {opened_stat.st_size} bytes, more than the 1 MiB limit")
        try:
            data = opened.read(MAX_FILE_BYTES + 1)
        except OSError as e:
            raise _cannot_read(e, path) from e
    if len(data) > MAX_FILE_BYTES:  # grew between fstat and read
        raise FileProblem("file is more than the 1 MiB limit")
    return data, before


def _stat(path: Path | str) -> os.stat_result | None:
    """``os.stat`` (symlinks followed); None when nothing is there."""
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        raise _cannot_read(e, path) from e


def _cannot_read(error: OSError, path: Path | str) -> Exception:
    """The file's problem (``FileProblem``), or the pass's when the process ran out of
    something (``TransientError``: see ``_EXHAUSTED``)."""
    reason = error.strerror or str(error)
    if error.errno in _EXHAUSTED:
        return TransientError(f"{path}: cannot read now: {reason}")
    return FileProblem(f"cannot read: {reason}")


def _kind(st: os.stat_result | None) -> str | None:
    """``file`` for a regular file, else what it is, for messages; None for nothing."""
    if st is None:
        return None
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "an unknown kind"


def read_text(path: Path) -> str:
    """Read a UTF-8 text file of at most 1 MiB; NUL bytes or invalid UTF-8 mean binary."""
    data = read_bytes(path)
    if b"\x00" in data:
        raise FileProblem("binary content (NUL bytes); expected a UTF-8 text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FileProblem(f"binary content (not UTF-8 at byte {e.start})") from e


@dataclass(frozen=True)
class ComposeLookup:
    """A folder's compose file by Compose's precedence: the first candidate present *in any
    form* (``path``; None: the folder holds none, so it is no stack), why it cannot be read as
    a compose file (``problem``: a FIFO, a directory, a symlink to nothing, ...), and the later
    candidates it shadows. A broken first candidate is not skipped for the next one: that could
    be a stale copy, and the folder would silently become another stack."""

    path: Path | None
    problem: str | None = None
    shadowed: tuple[str, ...] = ()


def find_compose_file(folder: Path) -> ComposeLookup:
    states = [(name, entry_state(folder / name)) for name in COMPOSE_FILE_NAMES]
    present = [(name, state) for name, state in states if state != "missing"]
    if not present:
        return ComposeLookup(None)
    (name, state), shadowed = present[0], tuple(n for n, _ in present[1:])
    problem = None if state == "file" else state
    return ComposeLookup(folder / name, problem, shadowed)


def entry_state(path: Path) -> str:
    """What is at ``path``, never opening it: ``missing``, ``file`` (a regular file, symlinks
    followed), or why it is not one, for people. Noted as a probe."""
    state = _entry_state(str(path))
    seen("entry", path, value=state)
    return state


def _entry_state(path: str) -> str:
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    except OSError as e:
        if e.errno in _EXHAUSTED:
            raise _cannot_read(e, path) from e
        return f"unreadable ({e.strerror or e})"
    try:
        kind = _kind(os.stat(path))
    except (FileNotFoundError, NotADirectoryError):
        return "a symlink to nothing"
    except OSError as e:
        return "a symlink loop" if e.errno == errno.ELOOP else f"unreadable ({e.strerror or e})"
    return "file" if kind == "file" else f"not a regular file ({kind})"


# -- probes: what a load looked at ----------------------------------------------------------

# (kind, path) -> what was seen the first time it was asked in the recording: if a file changed
# in the middle of a load, asking again sees the new state, differs, and the load is redone.
Probes = dict[tuple[str, str], object]

_probes: ContextVar[Probes | None] = ContextVar("stackctl_source_probes", default=None)


def seen(kind: str, path: Path | str, *, value: object) -> None:
    """Note a probe: ``value`` is what asking ``kind`` of ``path`` saw (first answer kept)."""
    probes = _probes.get()
    if probes is not None:
        probes.setdefault((kind, str(path)), value)


def _file_state(path: str) -> str:
    """The file's content hash (or its problem): remembered while its ``stat`` is unchanged
    (see ``_settled``), else read."""
    known = _settled.get(path)
    if known is not None:
        try:
            now = os.stat(path)
        except OSError:
            now = None
        if now is not None and stat.S_ISREG(now.st_mode) and _signature(now) == known[0]:
            return known[1]
    try:
        data, before = _read_bytes(Path(path))
    except FileProblem as e:
        _settled.pop(path, None)
        return f"problem: {e.message}"
    digest = hashlib.sha256(data).hexdigest()
    _remember(path, before, digest)
    return digest


def exists(path: Path) -> bool:
    found = path.exists()
    seen("exists", path, value=found)
    return found


def is_file(path: Path) -> bool:
    found = path.is_file()
    seen("is_file", path, value=found)
    return found


def is_dir(path: Path) -> bool:
    found = path.is_dir()
    seen("is_dir", path, value=found)
    return found


def note_sops_key() -> None:
    """A load that decrypted a SOPS file depends on the age key too: noted as a probe, so a
    new or changed key (or a key file that appears) loads the entry again."""
    seen("sops_key", "", value=key_fingerprint())


_ASK_AGAIN: dict[str, Callable[[str], object]] = {
    "sops_key": lambda _: key_fingerprint(),
    "file": _file_state,
    "exists": os.path.exists,
    "is_file": os.path.isfile,
    "is_dir": os.path.isdir,
    "entry": _entry_state,
    "realpath": os.path.realpath,
}


@contextmanager
def recording() -> Iterator[Probes]:
    """Note every probe made in this block (and this thread) into the mapping it yields."""
    probes: Probes = {}
    token = _probes.set(probes)
    try:
        yield probes
    finally:
        _probes.reset(token)


def still_true(probes: Probes) -> bool:
    """Every probe, asked again, sees what it saw."""
    return all(_ASK_AGAIN[kind](path) == answer for (kind, path), answer in probes.items())
