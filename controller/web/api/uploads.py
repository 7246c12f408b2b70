"""A folder of manifests sent over HTTP (``POST /api/v1/apply``, ``/diff``): its JSON body
read and checked, written into a private folder, and kept when a version needs it.

The body is ``{"files": {"rel/path": base64}, "path": "rel/file" | null, "executable":
["rel/path", ...]}``: a JSON object can hold no link, device or owner, so the only things to
refuse are names: an absolute path, ``..``, ``.``, an empty part, a backslash or a NUL, a name
that is a file and a folder at once, and ``path`` or ``executable`` naming what was not sent.
Each file is written new (``O_EXCL | O_NOFOLLOW``) under a folder made for this request.

Where uploads live (``ControllerSide.uploads``, ``uploads/`` beside the database): a version
records the root it was loaded from, and its relative host paths (bind mounts, env files, build
contexts) are resolved against that root when a worker applies it, maybe much later (a
rollback to it months on). So the files of an apply that records a version are kept, in
``uploads/<digest>/`` named by their content (the same files sent twice are one folder),
beside the versions that point at them; ``uploads/`` itself is 0700 (what is in it is the
owner's only), the kept files 0644 (0755 when sent as executable) so that a container's user
can read a bind-mounted file. An upload that records nothing (invalid, refused, unchanged, a
``diff``) is deleted when the request ends. Kept folders are never deleted by stackctl: a
version is immutable history, and its folder is part of it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from controller.models.errors import StackctlError

MAX_FILES = 10_000
PRIVATE = 0o700  # uploads/ and a request's copy until it is kept
SHARED_FOLDER = 0o755  # inside a kept upload: what a container's user may need to read
SHARED_FILE = 0o644
INCOMING = ".incoming-"


class UploadRefused(StackctlError):
    """A body that is not a folder of files as described above: 422 and why."""


@dataclass(frozen=True)
class Upload:
    """The files by their path under the root, which one to load (``None``: the folder), the
    executable ones, and a digest of it all (the kept folder's name)."""

    files: dict[PurePosixPath, bytes]
    entry: PurePosixPath | None
    executable: frozenset[PurePosixPath]

    @property
    def digest(self) -> str:
        sha = hashlib.sha256()
        for path in sorted(self.files):
            mark = b"x" if path in self.executable else b"-"
            name = str(path).encode()
            sha.update(b"%d:%s%s%d:" % (len(name), name, mark, len(self.files[path])))
            sha.update(self.files[path])
        return sha.hexdigest()


def parse_upload(body: bytes) -> Upload:
    """The upload in ``body``, or ``UploadRefused`` saying what is wrong with it."""
    try:
        data = json.loads(body)
    except ValueError as e:
        raise UploadRefused(f"the body is not JSON: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise UploadRefused('the body is not {"files": {"rel/path": base64, ...}}')
    if len(data["files"]) > MAX_FILES:
        raise UploadRefused(f"over {MAX_FILES} files")
    files = {safe_path(name): _decoded(name, text) for name, text in data["files"].items()}
    if len(files) != len(data["files"]):
        raise UploadRefused("two names of the same file")
    _no_file_is_a_folder(files)
    entry = data.get("path")
    chosen = safe_path(entry) if isinstance(entry, str) else None
    if entry is not None and (chosen is None or chosen not in files):
        raise UploadRefused(f"path {entry!r} is not one of the files sent")
    marked = data.get("executable") or []
    if not isinstance(marked, list) or not all(isinstance(m, str) for m in marked):
        raise UploadRefused("executable is not a list of the files' paths")
    executable = frozenset(safe_path(m) for m in marked)
    if not executable <= files.keys():
        raise UploadRefused("executable names a file that was not sent")
    return Upload(files, chosen, executable)


def safe_path(name: object) -> PurePosixPath:
    """``name`` as a relative path that stays under the root; ``UploadRefused`` otherwise."""
    if not isinstance(name, str) or not name or len(name) > 4096:
        raise UploadRefused(f"{name!r} is not a file's relative path")
    if "\\" in name or "\0" in name or name.startswith("/"):
        raise UploadRefused(f"{name!r}: an absolute path, a backslash or a NUL")
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise UploadRefused(f"{name!r}: an empty part, '.' or '..'")
    return PurePosixPath(*parts)


def _decoded(name: str, text: object) -> bytes:
    if not isinstance(text, str):
        raise UploadRefused(f"{name!r}: the content is not a base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise UploadRefused(f"{name!r}: the content is not valid base64") from None


def _no_file_is_a_folder(files: dict[PurePosixPath, bytes]) -> None:
    folders = {parent for path in files for parent in path.parents}
    clash = sorted(str(p) for p in files.keys() & folders)
    if clash:
        raise UploadRefused(f"{clash[0]!r} is sent as a file and as a folder")


@contextlib.contextmanager
def private_copy(upload: Upload, uploads: Path) -> Iterator[Path]:
    """The upload written into a new folder under ``uploads`` (made 0700), deleted when the
    block ends unless ``keep`` moved it away."""
    uploads.mkdir(mode=PRIVATE, parents=True, exist_ok=True)
    os.chmod(uploads, PRIVATE)
    folder = Path(tempfile.mkdtemp(prefix=INCOMING, dir=uploads))
    try:
        for path, content in upload.files.items():
            _write(folder, path, content, executable=path in upload.executable)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _write(folder: Path, path: PurePosixPath, content: bytes, *, executable: bool) -> None:
    target = folder.joinpath(*path.parts)
    for parent in reversed(target.relative_to(folder).parents):
        made = folder / parent
        if not made.is_dir():
            made.mkdir()
            os.chmod(made, SHARED_FOLDER)  # whatever the umask
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    mode = SHARED_FOLDER if executable else SHARED_FILE
    descriptor = os.open(target, flags, mode)
    with os.fdopen(descriptor, "wb") as out:
        os.fchmod(out.fileno(), mode)
        out.write(content)


def keep(folder: Path, upload: Upload, uploads: Path) -> Path:
    """Move the private copy to its kept place, ``uploads/<digest>``, and return that; the
    same files kept before are that folder already (the copy is then left to be deleted)."""
    kept = uploads / upload.digest[:32]
    if kept.is_dir():
        return kept
    try:
        os.rename(folder, kept)
        os.chmod(kept, SHARED_FOLDER)  # its parent, uploads/, stays 0700
        folder.mkdir(mode=PRIVATE)  # the block's end deletes an empty folder
    except OSError:
        if not kept.is_dir():  # not a race with the same files
            raise
    return kept
