"""Where stackctl keeps its state: the database's default is one place per user, never the
current directory (``default_db``): run from anywhere, every command finds the same history.

Light on purpose (no pydantic, no yaml): a one-shot command such as ``stackctl get stacks``
finds its database here without loading the settings model (``controller.config.settings``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def default_state_dir(*, euid: int, environ: Mapping[str, str]) -> Path:
    """Where stackctl keeps its state when no ``--db`` is given: ``/var/lib/stackctl`` for
    root, else ``$XDG_STATE_HOME/stackctl`` (``~/.local/state/stackctl`` when unset or not
    absolute, as the XDG Base Directory specification says)."""
    if euid == 0:
        return Path("/var/lib/stackctl")
    base = environ.get("XDG_STATE_HOME", "")
    if not base or not Path(base).is_absolute():
        home = environ.get("HOME") or str(Path.home())
        base = str(Path(home) / ".local" / "state")
    return Path(base) / "stackctl"


def default_db(*, euid: int, environ: Mapping[str, str]) -> Path:
    """The database file used when neither ``--db`` nor ``STACKCTL_DB`` names one."""
    return default_state_dir(euid=euid, environ=environ) / "stackctl.db"


def database_path(db: Path | None, *, environ: Mapping[str, str] | None = None) -> Path:
    """The database a command uses: ``--db`` given, else ``STACKCTL_DB``, else ``default_db``
    (the same precedence as ``controller.config.settings.load_settings``)."""
    environ = os.environ if environ is None else environ
    if db is not None:
        return db
    if raw := environ.get("STACKCTL_DB"):
        return Path(raw)
    return default_db(euid=os.geteuid(), environ=environ)
