"""SOPS-encrypted files met while loading: checked, never let into the model in plaintext.

The loader decrypts an encrypted file once, only to check that it can be decrypted (a file
that cannot makes the manifest invalid, naming the file and ``sops``'s reason, so the last
good version keeps running) and, for an env file, to learn its variable names. What the
model keeps is the ciphertext (in ``DesiredStack.files``, by the hash of its bytes) and:

- an encrypted env file (``env_file``, ``spec.envFile``, a folder's ``.env``): each of its
  variables as a placeholder (``controller.sources.secrets.placeholders``); the runtime decrypts
  and puts
  the values in when it creates a container;
- an encrypted secret or config ``file``: its format (``FileObject.sops``); the runtime
  decrypts and copies it into the container.

A placeholder may only end up in a service's ``environment`` value (``check_placeholders``):
anywhere else it would reach the engine as text, or need the plaintext in the model. An
encrypted env file's values may refer to variables defined earlier in it, nothing else (the
runtime expands them without the interpolation variables). ``format: raw`` is refused for an
encrypted env file.

Messages never quote a decrypted value; this module never logs.
"""

from __future__ import annotations

from typing import Any

from controller.sources.loader.dotenv import DotenvError, parse_dotenv
from controller.sources.loader.files import note_sops_key
from controller.sources.loader.issues import Issues
from controller.sources.loader.yamlmarks import KeyPath
from controller.sources.secrets import (
    SopsError,
    decrypt,
    is_encrypted,
    placeholder,
    placeholders_in,
)


def encrypted_dotenv(text: str) -> bool:
    return is_encrypted(text.encode(), "dotenv")


def sealed_variables(
    text: str, *, digest: str, rel: str, issues: Issues, path: KeyPath
) -> dict[str, str] | None:
    """The variables of the encrypted env file ``text`` (whose bytes hash to ``digest``) as
    placeholders; None, with an error at ``path``, when it cannot be decrypted or read."""
    plain = decrypt_checked(text.encode(), fmt="dotenv", rel=rel, issues=issues, path=path)
    if plain is None:
        return None
    try:
        parsed = parse_dotenv(plain.decode("utf-8"), lookup={})
    except UnicodeDecodeError:
        issues.error(path, f"`{rel}` is SOPS-encrypted and its plaintext is not UTF-8 text")
        return None
    except DotenvError as e:
        # e.message may quote the line: never repeat a decrypted value.
        issues.error(path, f"`{rel}` is SOPS-encrypted; its plaintext line {e.line} is invalid")
        return None
    if parsed.unset:
        names = ", ".join(f"`{n}`" for n in dict.fromkeys(parsed.unset))
        issues.error(
            path,
            f"`{rel}` is SOPS-encrypted; its values may use only variables defined earlier in"
            f" it, and {names} is not",
        )
        return None
    for name in parsed.bare:
        issues.warn(path, f"`{rel}`: `{name}` has no value; left out")
    return {name: placeholder(digest, name) for name in parsed.values}


def decrypt_checked(
    data: bytes, *, fmt: Any, rel: str, issues: Issues, path: KeyPath
) -> bytes | None:
    """The plaintext, to be checked and dropped by the caller; None with an error."""
    note_sops_key()
    try:
        return decrypt(data, fmt=fmt)
    except SopsError as e:
        issues.error(path, f"`{rel}` is SOPS-encrypted and cannot be decrypted: {e.reason}")
        return None


def check_placeholders(doc: Any, *, sealed: set[str], issues: Issues, path: KeyPath = ()) -> None:
    """An error at every key path of the interpolated document ``doc`` holding a placeholder
    other than a service's ``environment`` value, and at every placeholder that no encrypted
    variable made (written by hand, or copied from another stack)."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            if isinstance(key, str) and key.startswith("x-"):
                continue  # extension fields reach neither the model nor the engine
            if isinstance(key, str):
                _check_text(key, sealed=sealed, issues=issues, path=(*path, key), allowed=False)
            check_placeholders(value, sealed=sealed, issues=issues, path=(*path, key))
    elif isinstance(doc, list):
        for i, item in enumerate(doc):
            check_placeholders(item, sealed=sealed, issues=issues, path=(*path, i))
    elif isinstance(doc, str):
        if not _environment_value(path):
            _check_text(doc, sealed=sealed, issues=issues, path=path, allowed=False)
        elif isinstance(path[-1], int):  # `- NAME=value`: the name may not hold one
            name = doc.partition("=")[0]
            _check_text(name, sealed=sealed, issues=issues, path=path, allowed=False)
        # An environment value is checked once merged (check_environment).


def _environment_value(path: KeyPath) -> bool:
    return len(path) == 4 and path[0] == "services" and path[2] == "environment"


def _check_text(
    text: str, *, sealed: set[str], issues: Issues, path: KeyPath, allowed: bool
) -> None:
    for sha, name in placeholders_in(text):
        if sha not in sealed:
            issues.error(
                path,
                f"`<sops:...:{name}>` looks like the placeholder of a SOPS-encrypted variable,"
                " but no encrypted env file of this stack made it",
            )
        elif not allowed:
            issues.error(
                path,
                f"uses SOPS-encrypted variable {name}; encrypted variables may only be used"
                " in environment values",
            )


def check_environment(
    values: dict[str, str], *, sealed: set[str], issues: Issues, path: KeyPath
) -> None:
    """A service's merged environment: placeholders only from this stack's encrypted files
    (a plaintext env file may hold one written by hand)."""
    for name, value in values.items():
        _check_text(value, sealed=sealed, issues=issues, path=(*path, name), allowed=True)
