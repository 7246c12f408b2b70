"""How big a commit's checkout would be, measured in the mirror before anything is written.

A push of a few megabytes can hold gigabytes once checked out (a file of zeros compresses a
thousandfold; one blob can be named by a hundred thousand paths). So before ``read-tree``
writes a commit's tree, ``git ls-tree -r -l`` lists it from the mirror and every file (blob)
is counted with its size; over ``CheckoutLimits`` the fetch fails with ``CheckoutTooBig``,
naming the cap and the figure, and nothing is checked out, applied or deleted.

The listing is read as it comes (never held whole: a tree of millions of entries is itself the
attack) and bounded by the fetch's deadline.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from controller.sources.git.failures import FetchError, FetchErrorKind, FetchTimeout
from controller.sources.git.runner import HARDENING, kill_group

MIB = 1024 * 1024
DEFAULT_MAX_BYTES = 512 * MIB
DEFAULT_MAX_FILES = 50_000
_CHUNK = 1 << 16


class CheckoutTooBig(FetchError):
    """The commit's tree is over a checkout cap (bytes or files); nothing was checked out."""

    kind: ClassVar[FetchErrorKind] = "too_big"


@dataclass(frozen=True)
class CheckoutLimits:
    """``--git-max-checkout-bytes`` and ``--git-max-checkout-files``: the most one checkout
    of a repository may hold (the whole commit's tree, every file counted with its size)."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_files: int = DEFAULT_MAX_FILES


@dataclass(frozen=True)
class TreeSize:
    files: int
    bytes: int


def measure_tree(
    sha: str, *, mirror: Path, env: Mapping[str, str], cwd: Path, deadline: float
) -> TreeSize:
    """Every file of commit ``sha``'s tree counted, with the sum of their sizes (a symlink
    counts its target's text, a submodule nothing: neither is followed)."""
    args = ["git", *HARDENING, f"--git-dir={mirror}", "ls-tree", "-r", "-l", "-z", sha]
    try:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
    except OSError as e:
        raise FetchError(f"cannot list commit {sha}: cannot run git: {e.strerror or e}") from e
    files = total = 0
    pending = b""
    try:
        assert proc.stdout is not None
        while chunk := os.read(proc.stdout.fileno(), _CHUNK):
            if time.monotonic() >= deadline:
                raise FetchTimeout(f"cannot list commit {sha}: timed out; git was stopped")
            records = (pending + chunk).split(b"\0")
            pending = records.pop()
            for record in records:
                # "<mode> <type> <object> <size>\t<path>"; size is "-" for a submodule
                meta = record.partition(b"\t")[0].split()
                if len(meta) == 4 and meta[1] == b"blob":
                    files += 1
                    total += int(meta[3])
        if proc.wait() != 0:
            raise FetchError(f"cannot list commit {sha}: git exited with {proc.returncode}")
    finally:
        kill_group(proc)
    return TreeSize(files=files, bytes=total)


def check_limits(size: TreeSize, limits: CheckoutLimits, *, what: str) -> None:
    """Raise ``CheckoutTooBig`` when ``size`` is over a cap; ``what`` names the commit."""
    if size.files > limits.max_files:
        raise CheckoutTooBig(
            f"{what} holds {size.files:,} files, over the cap of {limits.max_files:,}"
            " (--git-max-checkout-files); nothing was checked out"
        )
    if size.bytes > limits.max_bytes:
        raise CheckoutTooBig(
            f"{what} holds {_shown(size.bytes)} in {_count(size.files)}, over the cap of"
            f" {_shown(limits.max_bytes)} (--git-max-checkout-bytes); nothing was checked out"
        )


def _count(files: int) -> str:
    return "1 file" if files == 1 else f"{files:,} files"


def _shown(count: int) -> str:
    return f"{count / MIB:,.1f} MiB ({count:,} bytes)"
