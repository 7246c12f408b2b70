"""The files folder: secrets and configs written for containers to bind-mount, privately.

Each file is content-addressed (``<files_dir>/<sha256>``), written once and atomically. A
secret's file holds plaintext, so it is created ``0400`` (never readable by anyone else for an
instant: the mode is given when the file is created, not after) and the folder itself is
``0700``, whatever the umask and the parent folder's mode. A config's file stays ``0444``: a
config is no secret, and a container whose process is not the controller's user must read it.
SOPS-encrypted files never come here (they are copied into the container, ``sealed``).
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

from controller.backends.shared.decrypt import sealed_refs
from controller.desired import DesiredStack
from controller.models.errors import PermanentError

SECRET_MODE = 0o400
CONFIG_MODE = 0o444
FOLDER_MODE = 0o700


def write_files(desired: DesiredStack, service: str, *, files_dir: Path) -> None:
    """The service's plain secrets and configs as read-only, content-addressed files."""
    spec = desired.compose.services[service]
    encrypted = {id(ref) for ref, _ in sealed_refs(desired, service)}
    refs = [(ref, SECRET_MODE) for ref in spec.secrets] + [(r, CONFIG_MODE) for r in spec.configs]
    for ref, mode in refs:
        if ref.sha256 is None or id(ref) in encrypted:
            continue  # external; or SOPS-encrypted: copied into the container instead
        private_folder(files_dir)
        path = files_dir / ref.sha256
        if path.exists():
            if mode == SECRET_MODE and path.stat().st_mode & 0o777 != SECRET_MODE:
                path.chmod(SECRET_MODE)  # written before files were private, or as a config
            continue
        content = desired.files.get(ref.sha256)
        if content is None:
            raise PermanentError(f"the content of {ref.source} ({ref.sha256[:12]}) is missing")
        tmp = path.with_suffix(f".tmp{os.getpid()}-{threading.get_ident()}")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()  # left by a killed writer of this very thread id
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.chmod(tmp, mode)  # the umask may have taken bits off a config's 0444
        tmp.replace(path)


def private_folder(folder: Path) -> None:
    """``folder`` made if missing, and ``0700`` whatever the umask made it."""
    folder.mkdir(parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o777 != FOLDER_MODE:
        folder.chmod(FOLDER_MODE)
