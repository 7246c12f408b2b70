"""Placeholders: what the canonical model holds where an encrypted variable's value goes.

A variable of a SOPS-encrypted env file is ``<sops:SHA256:NAME>`` in the model: ``SHA256``
is the hash of the encrypted file's bytes (the blob that ``DesiredStack.files`` and the
database keep), ``NAME`` the variable in it. It can only stand in a service's
``environment`` value, alone or inside a longer string (``postgres://app:<sops:...:PW>@db``);
the runtime replaces it by the decrypted value when it creates the container.

Why a string and not a field of its own: it follows Compose's precedence for free (a later
env file or ``environment`` overrides it like any value), it can be embedded by
interpolation, and it changes exactly when the ciphertext does, so the service's config hash
(and so a recreate) follows the encrypted file and nothing else. The full hash (not a prefix)
lets a stored version name every blob it needs (``sealed_blobs``). Readers see the
placeholder, never the value: ``describe``, ``diff``, the API and the database show it as is.

Pure functions only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from controller.desired import DesiredStack

PLACEHOLDER = re.compile(r"<sops:([0-9a-f]{64}):([A-Za-z_][A-Za-z0-9_.\-]*)>")


def placeholder(sha256: str, name: str) -> str:
    return f"<sops:{sha256}:{name}>"


def placeholders_in(text: str) -> list[tuple[str, str]]:
    """``(sha256, name)`` of every placeholder in ``text``, in order."""
    return [(m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(text)]


def sealed_blobs(desired: DesiredStack) -> set[str]:
    """The hashes of the encrypted env files the stack's environment values refer to."""
    return {sha for value in _environment_values(desired) for sha, _ in placeholders_in(value)}


def _environment_values(desired: DesiredStack) -> Iterator[str]:
    for service in desired.compose.services.values():
        yield from service.environment.values()
