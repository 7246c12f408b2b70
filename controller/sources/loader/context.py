"""What normalizing one compose document needs to know, and the shape checks it uses.

Owns ``ComposeContext`` (the root, the compose file's folder, the project name, the
interpolation variables, where problems go, the collected file contents) and the small
helpers that check a raw value's shape and report a key-path error instead of raising. It
must never read a file except through ``ComposeContext.read_*``, which confine it to the root.
"""

from __future__ import annotations

import functools
import hashlib
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from controller.sources.loader.files import FileProblem, exists, read_bytes, read_text
from controller.sources.loader.issues import Issues
from controller.sources.loader.root import Root, RootPath
from controller.sources.loader.yamlmarks import KeyPath

# Both root-relative, so the answer does not depend on the working directory; a folder's
# services ask it for the same few paths again and again.
_relative = functools.lru_cache(maxsize=4096)(posixpath.relpath)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class ComposeContext:
    root: Root
    base_dir: Path  # the compose file's folder: relative references start here
    project: str
    variables: Mapping[str, str]
    issues: Issues
    files: dict[str, bytes] = field(default_factory=dict)
    # Where the interpolated document holds a NUL byte (key path, text): see engine_strings.
    nul_strings: list[tuple[KeyPath, str]] = field(default_factory=list)
    # The stack's source folder (root-relative): stored host paths are relative to it, so a
    # folder's digest does not depend on the root it was loaded from (DesiredStack.base).
    source_dir: str = "."
    # Active profiles (Compose's rules: a service without `profiles` is always enabled, one
    # with profiles when one of them is active; `*` activates every profile), and the services
    # left out by them, with their profiles, for people (DesiredStack.disabled_services).
    profiles: frozenset[str] = frozenset()
    disabled: dict[str, list[str]] = field(default_factory=dict)
    # Hashes of the SOPS-encrypted env files whose variables are placeholders (see
    # controller.sources.loader.encrypted_files); their ciphertext is in ``files``.
    sealed: set[str] = field(default_factory=set)
    # Each active service as Docker Compose v2 loads it (``compose_view``), host paths relative
    # to ``source_dir``; a service whose view cannot be exact has none (DesiredStack).
    views: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """The encrypted interpolation variables' files (``Variables.sealed``) are kept."""
        for digest, data in getattr(self.variables, "sealed", {}).items():
            self.files[digest] = data
            self.sealed.add(digest)

    def enabled(self, profiles: list[str]) -> bool:
        return not profiles or "*" in self.profiles or not self.profiles.isdisjoint(profiles)

    def stored(self, where: RootPath) -> str:
        """The form of a located path that the canonical model keeps."""
        if self.source_dir == ".":
            return where.rel
        return _relative(where.rel, self.source_dir)

    def locate(self, ref: str, path: KeyPath) -> RootPath | None:
        try:
            return self.root.locate(base=self.base_dir, ref=ref)
        except FileProblem as e:
            self.issues.error(path, e.message)
            return None

    def read_content(self, ref: str, path: KeyPath) -> tuple[RootPath, str] | None:
        """Read a secret/config file (binary allowed); keep its bytes; return its hash."""
        where = self.locate(ref, path)
        if where is None:
            return None
        try:
            data = read_bytes(where.path)
        except FileProblem as e:
            self.issues.error(path, f"`{where.rel}`: {e.message}")
            return None
        return where, self.keep(data)

    def read_text(
        self, ref: str, path: KeyPath, *, required: bool = True
    ) -> tuple[RootPath, str, str] | None:
        """Read a text file (an env file): where it is, its text, the hash of its bytes."""
        where = self.locate(ref, path)
        if where is None:
            return None
        if not required and not exists(where.path):
            return where, "", ""
        try:
            text = read_text(where.path)
        except FileProblem as e:
            self.issues.error(path, f"`{where.rel}`: {e.message}")
            return None
        return where, text, sha256_hex(text.encode())

    def keep(self, data: bytes) -> str:
        digest = sha256_hex(data)
        self.files[digest] = data
        return digest


def scalar_str(value: Any) -> str | None:
    """A scalar as Compose turns it into a string (``true``, ``1``, ``0.5``); None stays None."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    raise TypeError(type(value).__name__)


def type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return f"{type(value).__name__} {value!r}"


def as_mapping(ctx: ComposeContext, value: Any, *, path: KeyPath) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    ctx.issues.error(path, f"expected a mapping, got {type_name(value)}")
    return None


def without_extensions(mapping: dict[str, Any]) -> dict[str, Any]:
    """``x-*`` keys carry no meaning for the engine; Compose allows them in structured
    mappings, and so do we (never in free-form maps such as ``environment``)."""
    return {k: v for k, v in mapping.items() if not k.startswith("x-")}


def string_list(
    ctx: ComposeContext,
    value: Any,
    *,
    path: KeyPath,
    single: bool = True,
    strings_only: bool = False,
) -> list[str] | None:
    """A list of scalars as strings; a lone string counts as a one-item list when ``single``.
    With ``strings_only`` a number or boolean item is refused, as Compose's schema does where it
    wants strings (``command``, ``healthcheck.test``: ``[sleep, 5]`` must be ``[sleep, "5"]``)."""
    if single and isinstance(value, str | int | float) and not isinstance(value, bool):
        return [str(scalar_str(value))]
    if not isinstance(value, list):
        ctx.issues.error(path, f"expected a list, got {type_name(value)}")
        return None
    out: list[str] = []
    ok = True
    for i, item in enumerate(value):
        if (
            isinstance(item, dict | list)
            or item is None
            or (strings_only and not isinstance(item, str))
        ):
            ctx.issues.error((*path, i), f"expected a string, got {type_name(item)}")
            ok = False
        else:
            out.append(str(scalar_str(item)))
    return out if ok else None


def list_or_dict(
    ctx: ComposeContext, value: Any, *, path: KeyPath, separator: str = "="
) -> dict[str, str | None] | None:
    """``["K=V", "K"]`` or ``{K: V}`` -> ``{K: V}``; a bare ``K`` or a null value gives None.

    A key given twice in list form is an error: the second would silently win otherwise."""
    out: dict[str, str | None] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list):
                ctx.issues.error((*path, key), f"expected a string, got {type_name(item)}")
                continue
            out[key] = scalar_str(item)
        return out
    if not isinstance(value, list):
        ctx.issues.error(path, f"expected a list or a mapping, got {type_name(value)}")
        return None
    for i, item in enumerate(value):
        if not isinstance(item, str):
            ctx.issues.error(
                (*path, i), f"expected a `KEY{separator}VALUE` string, got {type_name(item)}"
            )
            continue
        key, sep, val = item.partition(separator)
        if not key:
            ctx.issues.error((*path, i), f"missing name before `{separator}`")
        elif key in out:
            ctx.issues.error((*path, i), f"`{key}` is given twice")
        else:
            out[key] = val if sep else None
    return out
