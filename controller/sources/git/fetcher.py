"""Following one repository: fetch it into a mirror we own, check the ref's commit out into a
folder of its own, and swap that folder in atomically as ``current``.

Layout under ``state_dir/<spec.name>/``::

    mirror.git/          a bare repository: every branch and tag, force-updated and pruned,
                         so the ref's commit on the server is the truth, even when it moved back
    checkouts/<sha>/     exactly the committed tree of one commit (never a work tree)
    current -> checkouts/<sha>   switched with one rename; the old checkout is then removed

We drive the ``git`` CLI rather than a library: it speaks every transport and every credential
users already have (ssh agent and keys, known_hosts, tokens), and it is the implementation
servers are tested against. ``controller.sources.git.runner`` hardens each call.

Crash safety: a checkout is written under a temporary name and renamed to ``checkouts/<sha>``
only when complete, and ``current`` only ever points at such a folder; leftovers of an
interrupted fetch are removed by the next one. A new process picks up the state dir as it is.
One fetch at a time per state dir (an advisory lock), bounded by ``timeout_s`` as a whole.

This module never deletes or replaces the current checkout when anything fails (a source that
cannot be read deletes nothing), and never reads the checkout's content: the loader does.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from controller.desired.repository_spec import RepositorySpec, redact, redact_url
from controller.sources.git.failures import FetchTimeout, PathNotFound, RefNotFound
from controller.sources.git.runner import (
    GitOutput,
    authorization_header,
    command_url,
    failure,
    git_env,
    run_git,
    secrets_in,
)
from controller.sources.git.sizing import CheckoutLimits, check_limits, measure_tree

# Higher precedence than any .gitattributes in the tree: no eol conversion, no `ident`
# expansion, no filter driver (e.g. LFS smudge), no re-encoding. The checkout holds the
# committed bytes, the same bytes a reviewer saw.
_ATTRIBUTES = b"* -text -eol -crlf -ident -filter -working-tree-encoding\n"
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_HEX_PREFIX = re.compile(r"^[0-9a-fA-F]{4,64}$")
_PERSON = re.compile(rb"^(?P<who>.*) (?P<ts>-?\d+) (?P<tz>[+-]\d{4})$")
_TMP_PREFIX = ".tmp-"


@dataclass(frozen=True)
class FetchResult:
    """The commit the ref points at and where its stack sources are on disk.

    ``root`` is ``spec.path`` inside that commit's checkout (a path that does not change while
    the commit stays current). ``changed`` is False when the commit was already current: then
    nothing was checked out. ``previous`` is the commit that was current before this fetch.
    """

    commit: str
    author: str
    subject: str
    committed_at: str
    root: Path
    changed: bool
    previous: str | None


@dataclass(frozen=True)
class _Call:
    """What every git call of one fetch shares: its environment (with the credential read for
    this fetch), the fetch's deadline, and the secrets no message may show."""

    env: dict[str, str]
    deadline: float
    secrets: tuple[str, ...]


@dataclass(frozen=True)
class _Commit:
    sha: str
    author: str
    subject: str
    committed_at: str


class Fetcher:
    """Fetches ``spec`` into ``state_dir/<spec.name>`` and keeps its ref's commit current."""

    def __init__(
        self,
        spec: RepositorySpec,
        *,
        state_dir: Path,
        timeout_s: float = 60.0,
        limits: CheckoutLimits = CheckoutLimits(),
    ) -> None:
        self.spec = spec
        self.timeout_s = timeout_s
        self.limits = limits
        # Absolute: git runs with the state dir as its working folder, not the caller's.
        self.home = Path(state_dir).absolute() / spec.name
        self._mirror = self.home / "mirror.git"
        self._checkouts = self.home / "checkouts"
        self._current = self.home / "current"
        self._url = command_url(spec)
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Stop a fetch in flight (and every later one) within a quarter second: the
        controller stops. The current checkout stays as it is."""
        self._cancel.set()

    def current_commit(self) -> str | None:
        """The commit of the current checkout, or None before the first successful fetch."""
        try:
            target = os.readlink(self._current)
        except OSError:
            return None
        parent, _, sha = target.partition("/")
        if parent != "checkouts" or not _SHA.match(sha) or not (self._checkouts / sha).is_dir():
            return None
        return sha

    def current_root(self) -> Path | None:
        """``spec.path`` in the current checkout, for reading it when the remote is down."""
        sha = self.current_commit()
        if sha is None:
            return None
        root = self._checkouts / sha / self.spec.path
        return root if root.is_dir() else None

    def fetch(self) -> FetchResult:
        """Fetch, resolve ``spec.ref`` and make its commit current (cheap if it already is).

        Raises a ``FetchError`` (``FetchTimeout``, ``FetchAuthError``, ``RefNotFound``,
        ``PathNotFound``, ``CheckoutTooBig``) and then leaves the current checkout exactly as
        it was.
        """
        deadline = time.monotonic() + self.timeout_s
        # The mirror and checkouts may hold what only the controller should read (a private
        # repository's files): 0700, whatever the umask and the parent folder's mode.
        for folder in (self.home.parent, self.home):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            if folder.stat().st_mode & 0o777 != 0o700:
                folder.chmod(0o700)
        self._checkouts.mkdir(exist_ok=True)
        with self._locked(deadline):
            header = authorization_header(self.spec)  # reads the token file: once per fetch
            env = git_env(self.spec, timeout_s=self.timeout_s, header=header)
            call = _Call(env=env, deadline=deadline, secrets=tuple(secrets_in(header)))
            self._ensure_mirror(call)
            self._download(call)
            commit = self._resolve(call)
            previous = self.current_commit()
            if previous == commit.sha:
                root = self._root_in(self._checkouts / commit.sha, commit=commit.sha)
                self._remove_all_but(commit.sha)
                return _result(commit, root=root, changed=False, previous=previous)
            self._check_size(commit.sha, call=call)
            folder = self._check_out(commit.sha, call=call)
            self._switch_to(folder)
            self._remove_all_but(commit.sha)
            root = self._checkouts / commit.sha / self.spec.path
            return _result(commit, root=root, changed=True, previous=previous)

    # -- steps ---------------------------------------------------------------------------------

    def _ensure_mirror(self, call: _Call) -> None:
        for leftover in self.home.glob(f"{_TMP_PREFIX}mirror-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        if not (self._mirror / "HEAD").is_file():
            # Made under another name and renamed, so a half-initialised mirror never counts.
            tmp = self.home / f"{_TMP_PREFIX}mirror-{secrets.token_hex(4)}"
            # No template: no sample hooks, nothing in the mirror that we did not write.
            args = ["-c", "init.defaultBranch=main", "init", "--quiet", "--bare", "--template="]
            self._git([*args, str(tmp)], call=call, action="cannot create the mirror")
            shutil.rmtree(self._mirror, ignore_errors=True)
            os.rename(tmp, self._mirror)
        attributes = self._mirror / "info" / "attributes"
        if not attributes.is_file() or attributes.read_bytes() != _ATTRIBUTES:
            attributes.parent.mkdir(exist_ok=True)  # `info/` comes from no template
            attributes.write_bytes(_ATTRIBUTES)
        # We hold the lock: a *.lock file can only be left by a git that was killed.
        for stale in [*self._mirror.glob("*.lock"), *self._mirror.glob("refs/**/*.lock")]:
            stale.unlink(missing_ok=True)

    def _download(self, call: _Call) -> None:
        args = [
            f"--git-dir={self._mirror}",
            "fetch", "--quiet", "--prune", "--force", "--no-tags",
            "--no-write-fetch-head", "--no-recurse-submodules", "--end-of-options",
            self._url, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*",
        ]  # fmt: skip
        shown = redact_url(self.spec.url)
        self._git(args, call=call, action=f"cannot fetch {shown}")

    def _resolve(self, call: _Call) -> _Commit:
        """One ``cat-file`` resolves every reading of ``ref`` and prints the commit itself."""
        ref = self.spec.ref
        if ref.startswith("refs/"):
            candidates = [ref]
        else:
            candidates = [f"refs/heads/{ref}", f"refs/tags/{ref}"]
            if _HEX_PREFIX.match(ref):
                candidates.append(ref.lower())
        stdin = "".join(f"{c}^{{commit}}\n" for c in candidates).encode()
        args = [f"--git-dir={self._mirror}", "cat-file", "--batch"]
        out = self._git(args, call=call, action="cannot read the mirror", stdin=stdin)
        commit = _first_commit(out.stdout)
        if commit is None:
            shown = redact_url(self.spec.url)
            raise RefNotFound(f"{shown} has no branch, tag or commit named {ref!r}")
        return commit

    def _check_size(self, sha: str, *, call: _Call) -> None:
        """Measured in the mirror, before a byte is written: a checkout over the caps is a
        failed fetch (``CheckoutTooBig``), the current checkout untouched."""
        size = measure_tree(
            sha, mirror=self._mirror, env=call.env, cwd=self.home, deadline=call.deadline
        )
        check_limits(size, self.limits, what=f"commit {sha[:12]} of {redact_url(self.spec.url)}")

    def _check_out(self, sha: str, *, call: _Call) -> Path:
        """Write the commit's tree into a new folder, renamed to checkouts/<sha> once complete."""
        tmp = self._checkouts / f"{_TMP_PREFIX}{sha}-{secrets.token_hex(4)}"
        index = tmp.with_name(tmp.name + ".index")  # outside the tree: the folder holds only files
        tmp.mkdir()
        try:
            args = [
                f"--git-dir={self._mirror}",
                f"--work-tree={tmp}",
                "read-tree",
                "--reset",
                "-u",
                sha,
            ]
            private = replace(call, env={**call.env, "GIT_INDEX_FILE": str(index)})
            self._git(args, call=private, action=f"cannot check out {sha}")
            self._root_in(tmp, commit=sha)
            final = self._checkouts / sha
            if final.exists():  # complete (renamed) but never made current: rebuilt, not trusted
                shutil.rmtree(final)
            os.rename(tmp, final)
            _fsync_dir(self._checkouts)
            return final
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        finally:
            index.unlink(missing_ok=True)

    def _switch_to(self, folder: Path) -> None:
        link = self.home / f"{_TMP_PREFIX}current-{secrets.token_hex(4)}"
        os.symlink(f"checkouts/{folder.name}", link)
        os.replace(link, self._current)
        _fsync_dir(self.home)

    def _remove_all_but(self, sha: str) -> None:
        # Failing to clean up must not fail a fetch that succeeded: the next one tries again.
        for entry in self._checkouts.iterdir():
            if entry.name == sha:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    entry.unlink()
        for link in self.home.glob(f"{_TMP_PREFIX}current-*"):
            with contextlib.suppress(OSError):
                link.unlink()

    def _root_in(self, checkout: Path, *, commit: str) -> Path:
        root = checkout / self.spec.path
        real = Path(os.path.realpath(root))
        inside = real == Path(os.path.realpath(checkout)) or real.is_relative_to(
            os.path.realpath(checkout)
        )
        if not inside or not real.is_dir():
            shown = redact_url(self.spec.url)
            raise PathNotFound(f"commit {commit} of {shown} has no folder {self.spec.path!r}")
        return root

    # -- plumbing ------------------------------------------------------------------------------

    def _git(
        self, args: list[str], *, call: _Call, action: str, stdin: bytes | None = None
    ) -> GitOutput:
        output = run_git(
            args,
            env=call.env,
            cwd=self.home,
            deadline=call.deadline,
            action=action,
            stdin=stdin,
            redactor=lambda text: redact(text, self.spec, secrets=call.secrets),
            cancel=self._cancel,
        )
        if output.returncode != 0:
            raise failure(action=action, output=output)
        return output

    @contextlib.contextmanager
    def _locked(self, deadline: float) -> Iterator[None]:
        fd = os.open(self.home / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise FetchTimeout(
                            f"another fetch of {self.spec.name!r} held the lock too long"
                        ) from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)  # closing releases the lock


def _first_commit(batch: bytes) -> _Commit | None:
    """The first candidate ``cat-file --batch`` found: ``<sha> commit <size>`` then the body;
    ``<name> missing`` (or ``ambiguous``) for the others."""
    pos = 0
    while pos < len(batch):
        end = batch.index(b"\n", pos)
        header = batch[pos:end].split(b" ")
        pos = end + 1
        if len(header) == 3 and header[1] == b"commit":
            size = int(header[2])
            return _parse_commit(header[0].decode("ascii"), batch[pos : pos + size])
        if len(header) == 3:  # another object type: skip its body and the newline after it
            pos += int(header[2]) + 1
    return None


def _parse_commit(sha: str, body: bytes) -> _Commit:
    head, _, message = body.partition(b"\n\n")
    fields: dict[bytes, bytes] = {}
    for line in head.split(b"\n"):
        if not line.startswith(b" "):  # continuation lines belong to gpgsig/mergetag
            key, _, value = line.partition(b" ")
            fields.setdefault(key, value)
    author = _PERSON.match(fields.get(b"author", b""))
    committer = _PERSON.match(fields.get(b"committer", b""))
    # Git's %s: the first paragraph of the message, its lines joined by spaces.
    subject = b" ".join(message.strip().split(b"\n\n", 1)[0].split(b"\n")) if message else b""
    return _Commit(
        sha=sha,
        author=author["who"].decode("utf-8", "replace") if author else "",
        subject=subject.decode("utf-8", "replace").strip(),
        committed_at=_iso(committer["ts"], committer["tz"]) if committer else "",
    )


def _iso(timestamp: bytes, tz: bytes) -> str:
    sign = -1 if tz.startswith(b"-") else 1
    offset = timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5])) * sign
    return datetime.fromtimestamp(int(timestamp), timezone(offset)).isoformat()


def _result(commit: _Commit, *, root: Path, changed: bool, previous: str | None) -> FetchResult:
    return FetchResult(
        commit=commit.sha,
        author=commit.author,
        subject=commit.subject,
        committed_at=commit.committed_at,
        root=root,
        changed=changed,
        previous=previous,
    )


def _fsync_dir(path: Path) -> None:
    # A rename is durable only once its directory is; otherwise a power cut can undo the swap.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
