"""Decrypting a stack's SOPS-encrypted values when a container is created, in memory only.

The model holds placeholders (``controller.sources.secrets.placeholders``) and ciphertext blobs;
here, and
only here, they become plaintext, for one ``create_container``:

- environment values: each placeholder is replaced by its variable's value, from the blob's
  plaintext parsed as Compose reads an env file (``${X}`` expands only variables defined
  earlier in the same file, as the loader checked);
- encrypted secret/config files (``FileObject.sops``): decrypted into a tar archive that the
  engine copies into the created container at the ref's target (``put_archive``) before it
  starts. Not a bind mount of a file under ``files_dir`` like a plaintext secret: that would
  write the plaintext to the host's disk, where it would outlive the container. Copied in, it
  lives where the engine keeps the container (like its environment), goes with it, and
  survives a reboot. The price: the file is not read-only inside the container, and a
  ``read_only: true`` service cannot take one (``container_spec.unsupported`` says so).

``Unsealed.secrets`` lists every decrypted value, so that an engine error that echoes one
is masked before it is logged (``mask``). Nothing here logs or writes a file.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field

from controller.desired import DesiredStack
from controller.desired.compose import FileObject, FileRef
from controller.models.errors import PermanentError, StackctlError
from controller.sources.loader.dotenv import DotenvError, parse_dotenv
from controller.sources.secrets import PLACEHOLDER, SopsError, decrypt

MASK = "***"


@dataclass(frozen=True)
class Unsealed:
    environment: dict[str, str]
    archive: bytes | None = None  # a tar of the decrypted files, to extract at "/"
    secrets: list[str] = field(default_factory=list, repr=False)

    def mask(self, error: StackctlError) -> StackctlError:
        """``error`` with every decrypted value it quotes replaced by ``***`` and without its
        cause (the engine's own error, which may quote them too)."""
        text = str(error)
        hidden = text
        for value in sorted(self.secrets, key=len, reverse=True):
            if len(value) >= 3:  # shorter ones would mask ordinary words
                hidden = hidden.replace(value, MASK)
        if hidden != text:
            error.args = (hidden,)
            error.__cause__ = None
            error.__suppress_context__ = True
        return error


def sealed_refs(desired: DesiredStack, service: str) -> list[tuple[FileRef, FileObject]]:
    """The service's secrets and configs whose files are SOPS-encrypted."""
    spec = desired.compose.services[service]
    out = []
    for refs, objects in (
        (spec.secrets, desired.compose.secrets),
        (spec.configs, desired.compose.configs),
    ):
        for ref in refs:
            definition = objects.get(ref.source)
            if definition is not None and definition.sops is not None:
                out.append((ref, definition))
    return out


def unseal(
    desired: DesiredStack,
    service: str,
    environment: Mapping[str, str],
    *,
    copy_files: bool = False,
) -> Unsealed:
    """The container's environment with its placeholders replaced, and its encrypted files
    (with ``copy_files``, a remote engine's: its plain secret and config files too)."""
    variables: dict[str, dict[str, str]] = {}  # blob -> its variables
    secrets: list[str] = []

    def value(sha: str, name: str) -> str:
        if sha not in variables:
            variables[sha] = _env_file(desired.files, sha)
            secrets.extend(variables[sha].values())
        if name not in variables[sha]:
            raise PermanentError(
                f"services.{service}.environment: the encrypted env file {sha[:12]} has no"
                f" variable {name}"
            )
        return variables[sha][name]

    resolved = {
        key: PLACEHOLDER.sub(lambda m: value(m.group(1), m.group(2)), text)
        for key, text in environment.items()
    }
    for key, text in resolved.items():
        if "\x00" in text:
            raise PermanentError(f"services.{service}.environment.{key}: a NUL byte in its value")
    archive, plain = _archive(desired, service, copy_files=copy_files)
    return Unsealed(environment=resolved, archive=archive, secrets=[*secrets, *plain])


def _env_file(files: Mapping[str, bytes], sha: str) -> dict[str, str]:
    data = files.get(sha)
    if data is None:
        raise PermanentError(f"the encrypted env file {sha[:12]} is missing from the version")
    plain = _decrypt(data, fmt="dotenv", what=f"the encrypted env file {sha[:12]}")
    try:
        return parse_dotenv(plain.decode("utf-8"), lookup={}).values
    except (UnicodeDecodeError, DotenvError):
        raise PermanentError(f"the encrypted env file {sha[:12]} is not a valid env file") from None


def _archive(
    desired: DesiredStack, service: str, *, copy_files: bool
) -> tuple[bytes | None, list[str]]:
    refs = sealed_refs(desired, service)
    plain_refs = _plain_refs(desired, service, sealed=refs) if copy_files else []
    if not refs and not plain_refs:
        return None, []
    import tarfile  # here: a container with no file to copy never needs it

    buffer = io.BytesIO()
    texts: list[str] = []
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for ref, definition in refs:
            data = desired.files.get(ref.sha256 or "")
            if data is None:
                raise PermanentError(f"the content of {ref.source} is missing from the version")
            plain = _decrypt(data, fmt=definition.sops, what=f"{ref.source} ({definition.file})")
            info = tarfile.TarInfo(ref.target.lstrip("/"))
            info.size, info.mode, info.uid, info.gid = len(plain), 0o444, 0, 0
            tar.addfile(info, io.BytesIO(plain))
            text = plain.decode("utf-8", "replace").strip()
            if text:
                texts.append(text)
        for ref in plain_refs:
            data = desired.files.get(ref.sha256 or "")
            if data is None:
                raise PermanentError(f"the content of {ref.source} is missing from the version")
            info = tarfile.TarInfo(ref.target.lstrip("/"))
            info.size, info.mode, info.uid, info.gid = len(data), 0o444, 0, 0
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue(), texts


def _plain_refs(
    desired: DesiredStack, service: str, *, sealed: list[tuple[FileRef, FileObject]]
) -> list[FileRef]:
    """The service's secrets and configs with a file that is not encrypted (external ones have
    no file: Swarm's)."""
    spec = desired.compose.services[service]
    encrypted = {id(ref) for ref, _ in sealed}
    return [
        ref
        for ref in [*spec.secrets, *spec.configs]
        if ref.sha256 is not None and id(ref) not in encrypted
    ]


def _decrypt(data: bytes, *, fmt: str | None, what: str) -> bytes:
    try:
        return decrypt(data, fmt=fmt or "binary")  # type: ignore[arg-type]  # checked by the model
    except SopsError as e:
        raise PermanentError(f"{what} cannot be decrypted: {e.reason}") from None
