"""Linux's inotify over a whole folder tree, read only when the kernel has something to say.

watchfiles' loop looks for events every ``step`` milliseconds whether or not anything changed
(its Rust side sleeps ``step`` and looks again), so an idle controller woke 100 times a second
to watch a folder that did not change. Here the watcher's thread sleeps in ``select`` on the
inotify descriptor (and the watcher's doorbell): no event, no wake-up.

``Tree`` watches every folder under a root (a watch per folder, as inotify and watchfiles both
need), adds the folders created or moved in later, and says whether a batch of events holds a
change worth a pass (watchfiles' ``DefaultFilter``: not ``.git``, ``__pycache__``, editors'
swap files...). Which files changed is not kept: a pass reloads the root (its cache makes
that cheap). A queue overflow counts as a change, and the tree is walked again for folders
whose watch it lost. ``available()`` says whether this kernel has inotify (else the loop falls
back to watchfiles), and ``WATCHFILES_FORCE_POLLING`` set asks for that fallback too.

``Files`` watches a few files of one folder (the controller's database, written by other
processes too: ``controller.daemon.db_watch``), and ``Doorbell`` wakes a thread asleep in
``poll`` on such descriptors (a nudge, a stop).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import struct
import sys
import threading
from pathlib import Path

import watchfiles

IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x2, 0x4, 0x8
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
IN_DELETE_SELF, IN_MOVE_SELF = 0x400, 0x800
IN_Q_OVERFLOW, IN_IGNORED, IN_ISDIR = 0x4000, 0x8000, 0x40000000
IN_NONBLOCK, IN_CLOEXEC = os.O_NONBLOCK, os.O_CLOEXEC
CHANGES = (
    IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE
    | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF
)  # fmt: skip
NEW_FOLDER = IN_CREATE | IN_MOVED_TO
ROOT_GONE = IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED
EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then the name, NUL-padded
READ_SIZE = 64 * 1024

_ignored = watchfiles.DefaultFilter()


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.inotify_init1, libc.inotify_add_watch  # noqa: B018 (present, or AttributeError)
    except (OSError, AttributeError):
        return None
    libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
    return libc


LIBC = _libc()


def available() -> bool:
    """inotify can be used here: Linux, and polling was not asked for (watchfiles' variable)."""
    forced = os.environ.get("WATCHFILES_FORCE_POLLING", "").lower()
    return LIBC is not None and forced in ("", "false", "disable", "disabled")


def ignored(path: str) -> bool:
    """A change no pass needs to see (watchfiles' default filter: VCS folders, caches, swap
    files): the same changes are ignored as when watchfiles watched."""
    return not _ignored(watchfiles.Change.modified, path)


class Tree:
    """Every folder under ``root`` watched; ``fileno`` is readable when something happened."""

    def __init__(self, root: str) -> None:
        if LIBC is None:
            raise OSError(errno.ENOSYS, "inotify is not available")
        if not os.path.isdir(root):
            raise FileNotFoundError(errno.ENOENT, "no such folder", root)
        fd = LIBC.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            raise _error("inotify_init1", root)
        self._fd = fd
        self._root = root
        self._folders: dict[int, str] = {}  # watch descriptor -> its folder
        self.root_gone = False  # the root was deleted or moved away: watch it anew
        try:
            self._add_tree(root)
        except BaseException:
            self.close()
            raise

    def fileno(self) -> int:
        return self._fd

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Tree:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def read(self) -> bool:
        """Read what is waiting (nothing waits: ``False``); ``True`` when it holds a change a
        pass must see. New folders are watched before this returns."""
        try:
            data = os.read(self._fd, READ_SIZE)
        except BlockingIOError:
            return False
        changed = False
        offset = 0
        while offset < len(data):
            wd, mask, _cookie, size = EVENT.unpack_from(data, offset)
            name = data[offset + EVENT.size : offset + EVENT.size + size].rstrip(b"\0")
            offset += EVENT.size + size
            changed |= self._event(wd, mask, os.fsdecode(name))
        return changed

    def _event(self, wd: int, mask: int, name: str) -> bool:
        if mask & IN_Q_OVERFLOW:  # events were lost: a pass, and every folder watched again
            self._add_tree(self._root)
            return True
        folder = self._folders.get(wd)
        if folder is None:
            return False
        if mask & IN_IGNORED:
            del self._folders[wd]
        if folder == self._root and not name and mask & ROOT_GONE:
            self.root_gone = True
            return True
        path = os.path.join(folder, name) if name else folder
        if mask & IN_ISDIR and mask & NEW_FOLDER:
            self._add_tree(path)
        return bool(mask & CHANGES) and not ignored(path)

    def _add_tree(self, top: str) -> None:
        """Watch ``top`` and every folder under it (symlinked ones followed once each), but not
        those whose changes are ignored (``.git``...): they would only cost watches."""
        seen: set[str] = set()
        for folder, subfolders, _files in os.walk(top, followlinks=True):
            real = os.path.realpath(folder)
            if real in seen:
                subfolders.clear()  # a symlink loop, or a folder reached twice
                continue
            seen.add(real)
            subfolders[:] = [s for s in subfolders if not ignored(os.path.join(folder, s))]
            self._watch(folder)

    def _watch(self, folder: str) -> None:
        wd = LIBC.inotify_add_watch(self._fd, os.fsencode(folder), CHANGES)  # type: ignore[union-attr]
        if wd >= 0:
            self._folders[wd] = folder
            return
        code = ctypes.get_errno()
        if code in (errno.ENOENT, errno.ENOTDIR) and folder != self._root:
            return  # gone again already: its parent's event says so
        raise _error("inotify_add_watch", folder, code)


def _error(call: str, path: str, code: int | None = None) -> OSError:
    code = ctypes.get_errno() if code is None else code
    hint = " (raise fs.inotify.max_user_watches)" if code == errno.ENOSPC else ""
    return OSError(code, f"{call}: {os.strerror(code)}{hint}", str(Path(path)))


class Files:
    """Changes to the files called ``names`` in ``folder`` (not below it): a database and its
    journal, whoever writes them. ``fileno`` is readable when one changed."""

    def __init__(self, folder: str, names: set[str]) -> None:
        if LIBC is None:
            raise OSError(errno.ENOSYS, "inotify is not available")
        self._fd = LIBC.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self._fd < 0:
            raise _error("inotify_init1", folder)
        self._names = {os.fsencode(name) for name in names}
        mask = IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_DELETE
        if LIBC.inotify_add_watch(self._fd, os.fsencode(folder), mask) < 0:
            error = _error("inotify_add_watch", folder)
            self.close()
            raise error

    def fileno(self) -> int:
        return self._fd

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def read(self) -> bool:
        """Read what is waiting; ``True`` when one of the files changed."""
        changed = False
        try:
            while data := os.read(self._fd, READ_SIZE):
                offset = 0
                while offset < len(data):
                    _wd, mask, _cookie, size = EVENT.unpack_from(data, offset)
                    name = data[offset + EVENT.size : offset + EVENT.size + size].rstrip(b"\0")
                    offset += EVENT.size + size
                    changed |= bool(mask & IN_Q_OVERFLOW) or name in self._names
        except BlockingIOError:
            pass  # all read
        return changed


class Doorbell:
    """A pipe one thread polls and others ``ring`` (a nudge, a stop): it wakes a ``poll`` on
    file descriptors that a ``threading.Event`` could not."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pipe: tuple[int, int] | None = os.pipe()
        for fd in self._pipe:
            os.set_blocking(fd, False)

    def fileno(self) -> int:
        assert self._pipe is not None, "the doorbell is closed"
        return self._pipe[0]

    def writer(self) -> int:
        """The pipe's end ``ring`` writes a 0 to (``signal.set_wakeup_fd`` may write too)."""
        assert self._pipe is not None, "the doorbell is closed"
        return self._pipe[1]

    def ring(self) -> None:
        with self._lock:  # never a write to a descriptor closed (and reused) meanwhile
            if self._pipe is not None:
                with contextlib.suppress(BlockingIOError):  # full: it is ringing already
                    os.write(self._pipe[1], b"\0")

    def answer(self) -> bytes:
        """Empty the pipe: the rings so far are heard; the bytes read."""
        heard = b""
        with contextlib.suppress(BlockingIOError):
            while data := os.read(self.fileno(), 512):
                heard += data
        return heard

    def close(self) -> None:
        with self._lock:
            if self._pipe is not None:
                for fd in self._pipe:
                    os.close(fd)
                self._pipe = None
