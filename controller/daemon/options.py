"""The daemon's options: what ``Controller`` is given (``cli/daemon_options.py`` makes them from
the settings)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from controller.db import RetentionPolicy
from controller.desired.delivery import NotifyTarget
from controller.desired.engine_spec import EngineSpec
from controller.desired.reach import Reach
from controller.desired.repository_spec import RepositorySpec
from controller.sources.git.sizing import DEFAULT_MAX_BYTES, DEFAULT_MAX_FILES
from controller.sources.loader.engines_file import local_only


@dataclass(frozen=True)
class DaemonOptions:
    manifests: Path
    db: Path
    workers: int = 1
    resync: float = 60.0
    quiet_ms: int = 50
    allow_empty: bool = False
    wait_timeout: float = 120.0
    max_failures: int = 5
    api: tuple[str, int] | None = None  # (host, port) of the HTTP API; None: no API
    api_token: str | None = None
    api_open_reads: bool = False  # with a token: the read endpoints need none
    console_session_hours: float = 12.0  # a console session's life once the token is entered
    api_max_connections: int = 1000  # --api-max-connections
    api_header_timeout: float = 10.0  # --api-header-timeout, seconds
    api_body_timeout: float = 30.0  # --api-body-timeout, seconds
    api_body_budget: int = 32  # --api-body-budget, MiB
    repository: RepositorySpec | None = None  # --git-url: the repository named `default`
    webhook_secret: bytes | None = None  # STACKCTL_GIT_WEBHOOK_SECRET, for `default`
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)  # what compaction keeps
    notify: tuple[NotifyTarget, ...] = ()  # --notify: the destinations of every stack by default
    public_url: str | None = None  # links in notifications and commit statuses
    # --notify-allow: the destinations manifests may name (none: no destination at all)
    notify_allow: tuple[str, ...] = ()
    # --secrets-dir: a folder whose files any manifest may name (besides its own root's)
    secrets_dir: Path | None = None
    # --git-max-checkout-bytes/-files: the most one checkout of a repository may hold
    git_max_checkout_bytes: int = DEFAULT_MAX_BYTES
    git_max_checkout_files: int = DEFAULT_MAX_FILES
    allowed_hosts: tuple[str, ...] = ()  # --allowed-host: more Host names the API answers
    registry_auth: Path | None = None  # --registry-auth: credentials of image-update checks
    # --engines: the named engines stacks may target (`local` always; more from the file).
    engines: Mapping[str, EngineSpec] = field(default_factory=local_only)

    @property
    def reach(self) -> Reach:
        """What manifests may name outside their compose part (``--notify-allow``,
        ``--secrets-dir``)."""
        return Reach(notify_allow=self.notify_allow, secrets_dir=self.secrets_dir)

    @property
    def git_dir(self) -> Path:
        """Where repositories are mirrored and checked out (beside the database)."""
        return self.db.parent / "git"
