"""Settings: command-line flags first, then ``STACKCTL_*`` environment variables, then defaults.

One frozen value built once at start-up and passed down; nothing below the CLI reads the
environment for settings. The database's default is one place per user, never the current
directory (``default_db``): run from anywhere, every command finds the same history. There is
no default watched directory: ``manifests`` is ``None`` when none was given.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

ENV_PREFIX = "STACKCTL_"


@dataclass(frozen=True)
class Settings:
    """Everything the controller can be told. Paths are kept as given (relative to the cwd)."""

    db: Path  # no constant default: ``load_settings`` puts ``default_db(...)`` here
    manifests: Path | None = None  # none given (``stackctl run`` says so)
    workers: int = 1
    resync: float = 60.0
    debounce_ms: int = 50
    log_format: str = "text"
    api: str = "127.0.0.1:8420"  # HOST:PORT of the HTTP API of `stackctl run`
    # With STACKCTL_API_TOKEN set, reads need the token too unless this opens them deliberately.
    api_open_reads: bool = False
    # Hours a console session lasts after the token is entered (then it is asked again).
    console_session_hours: float = 12.0
    api_body_budget: int = 32  # MiB of webhook bodies held at once (then 503)
    api_body_timeout: float = 30.0  # seconds for a webhook body to arrive (then 408)
    api_header_timeout: float = 10.0  # seconds for a request's headers (then 408, closed)
    api_max_connections: int = 1000  # open connections at most (kept below the fd limit)
    max_failures: int = 5  # failed attempts of a command (transient errors) before it FAILS
    # Retention (``RetentionPolicy``'s defaults; a test keeps them equal): finished commands
    # of a stack beyond its newest keep_commands and older than keep_days go, events older
    # than event_days go; versions stay.
    keep_commands: int = 100
    keep_days: float = 7.0
    event_days: float = 30.0
    # The repository declared by flags (named `default`); more come from `kind: Repository`.
    git_url: str | None = None
    git_ref: str = "main"
    git_path: str = "."
    git_interval: float = 60.0
    git_token_file: Path | None = None
    git_ssh_key_file: Path | None = None
    git_known_hosts_file: Path | None = None
    git_webhook_secret_file: Path | None = None
    # Commit statuses for --git-url's commits: github | gitea | forgejo | gitlab, and its token.
    git_commit_status: str | None = None
    git_commit_status_token_file: Path | None = None
    git_commit_status_api: str | None = None
    # The most one checkout of a repository may hold: bytes (512 MiB), then files.
    git_max_checkout_bytes: int = 512 * 1024 * 1024
    git_max_checkout_files: int = 50_000
    # Delivery: notification destinations (``[EVENTS=]URL``, separated by spaces, as in
    # STACKCTL_NOTIFY) and the public address of the controller's pages, for links.
    notify: str | None = None
    public_url: str | None = None
    # What manifests may reach: the destinations they may name (allow patterns, separated by
    # spaces, as in STACKCTL_NOTIFY_ALLOW; none: no destination) and a folder of files they may
    # name besides their own root's.
    notify_allow: str | None = None
    secrets_dir: Path | None = None
    # More Host names the API and console answer (separated by spaces, as in
    # STACKCTL_ALLOWED_HOSTS), beyond the bound address, localhost and --public-url's host.
    allowed_hosts: str | None = None
    # The age key of SOPS-encrypted files (else sops's own SOPS_AGE_KEY_FILE, if set).
    sops_age_key_file: Path | None = None
    # Registry credentials for image updates, in Docker's config.json format (else Docker's own).
    registry_auth: Path | None = None
    # The named engines stacks may target (YAML; `local` always exists without it).
    engines: Path | None = None

    @property
    def files_dir(self) -> Path:
        """Where secrets and configs are written for containers to mount (beside the db)."""
        return self.db.parent / "files"


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


def _convert(name: str, raw: str) -> object:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    if isinstance(kind, str):
        kind = kind.removesuffix(" | None")
    try:
        if kind in ("Path", Path):
            return Path(raw)
        if kind in ("int", int):
            return int(raw)
        if kind in ("float", float):
            return float(raw)
        if kind in ("bool", bool):
            return _boolean(raw)
    except ValueError as e:
        raise ValueError(f"{ENV_PREFIX}{name.upper()}={raw!r}: not a valid {kind}") from e
    return raw


def _boolean(raw: str) -> bool:
    text = raw.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def load_settings(
    flags: Mapping[str, object] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    euid: int | None = None,
) -> Settings:
    """Resolve every setting: a flag given (not ``None``) wins over ``STACKCTL_<NAME>``, which
    wins over the default (the database's depends on the user: ``default_db``)."""
    flags = flags or {}
    environ = os.environ if environ is None else environ
    euid = os.geteuid() if euid is None else euid
    values: dict[str, object] = {"db": default_db(euid=euid, environ=environ)}
    for f in fields(Settings):
        if flags.get(f.name) is not None:
            values[f.name] = flags[f.name]
        elif (raw := environ.get(ENV_PREFIX + f.name.upper())) is not None:
            values[f.name] = _convert(f.name, raw)
    unknown = set(flags) - {f.name for f in fields(Settings)}
    if unknown:
        raise TypeError(f"unknown settings: {sorted(unknown)}")
    return Settings(**values)
