"""The interpolation variables of one compose document.

``spec.env`` of a Stack manifest first, then its ``spec.envFile`` (or, for a compose file,
the ``.env`` beside it), then nothing: the controller's process environment is never used
(see ``interpolation.py``). An inline compose document in a manifest gets no implicit
``.env``: several manifests may share one folder, and a ``.env`` there would silently apply
to all of them. A SOPS-encrypted env file gives placeholders, never its values
(``controller.sources.loader.encrypted_files``). This module reads only the env file it is pointed
at,
through the root.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from controller.sources.loader.context import sha256_hex
from controller.sources.loader.dotenv import DotenvError, parse_dotenv
from controller.sources.loader.encrypted_files import encrypted_dotenv, sealed_variables
from controller.sources.loader.files import FileProblem, exists, read_text
from controller.sources.loader.issues import Issues
from controller.sources.loader.root import Root
from controller.sources.loader.yamlmarks import KeyPath


class Variables(dict[str, str]):
    """Interpolation variables, and the SOPS-encrypted env file among them (hash -> its
    ciphertext): its variables are placeholders (``controller.sources.loader.encrypted_files``),
    and the
    ``ComposeContext`` built on these variables keeps its bytes for the runtime."""

    sealed: dict[str, bytes]

    def __init__(self, values: Mapping[str, str], sealed: dict[str, bytes] | None = None):
        super().__init__(values)
        self.sealed = sealed or {}


def load_variables(
    *,
    root: Root,
    issues: Issues,
    env: Mapping[str, str],
    base_dir: Path,
    env_file: str | None = None,
    env_file_key: KeyPath = (),
    implicit_dotenv: bool = False,
) -> dict[str, str]:
    """Variables for interpolation; problems go to ``issues`` at ``env_file_key``."""
    ref = env_file if env_file is not None else (".env" if implicit_dotenv else None)
    if ref is None:
        return dict(env)
    try:
        where = root.locate(base=base_dir, ref=ref)
        if env_file is None and not exists(where.path):
            return dict(env)
        text = read_text(where.path)
    except FileProblem as e:
        issues.error(env_file_key, f"env file `{ref}`: {e.message}")
        return dict(env)
    if encrypted_dotenv(text):
        digest = sha256_hex(text.encode())
        found = sealed_variables(
            text, digest=digest, rel=where.rel, issues=issues, path=env_file_key
        )
        if found is None:
            return dict(env)
        return Variables({**found, **env}, {digest: text.encode()})
    try:
        parsed = parse_dotenv(text, lookup=env)
    except DotenvError as e:
        issues.error(env_file_key, f"env file `{where.rel}` line {e.line}: {e.message}")
        return dict(env)
    for name in parsed.unset:
        issues.warn(
            env_file_key,
            f"env file `{where.rel}`: variable `{name}` is not set; using an empty string",
        )
    for name in parsed.bare:
        issues.warn(env_file_key, f"env file `{where.rel}`: `{name}` has no value; left out")
    return {**parsed.values, **env}
