"""The daemon's options (``DaemonOptions``): every setting of ``config.Settings``, as the
controller runs with it.

A setting the controller takes as it is (``workers``, ``resync``, ``api_body_budget``...) is
not declared here: ``DaemonOptions`` is made from ``Settings``' fields, with the same name, type
and default, so that a new setting is one field of ``Settings`` and reaches the controller by
itself. Declared here (``_Made``) are only the options the controller needs in another form
than a setting's value, each with the settings it is made from (``made_from``): ``api`` an
address or none (``api``, ``no_api``), ``repository`` one spec of the ``git_*`` settings,
``retention`` a policy of the ``keep_*``, ``notify`` checked destinations, ``oidc`` the console's
sign-in (the ``oidc_*`` settings and the secret read from its file)... and the two secrets
that are never settings (never a flag: every user sees a process's arguments), read from the
environment. ``cli/daemon_options.py`` makes them, checking each (a usage error names its flag).

Tests build a ``DaemonOptions(manifests=..., db=..., workers=...)`` directly: every option is a
keyword, and has the setting's default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import Field, dataclass, field, fields, make_dataclass
from pathlib import Path
from typing import Any

from controller.config.oidc import OidcConfig
from controller.config.settings import Settings
from controller.db import RetentionPolicy
from controller.desired.delivery import NotifyTarget
from controller.desired.engine_spec import EngineSpec
from controller.desired.reach import Reach
from controller.desired.repository_spec import RepositorySpec
from controller.sources.loader.engines_file import local_only

_GIT = (
    "git_url", "git_ref", "git_path", "git_interval", "git_token_file", "git_ssh_key_file",
    "git_known_hosts_file", "git_webhook_secret_file", "git_commit_status",
    "git_commit_status_token_file", "git_commit_status_api",
)  # fmt: skip


_OIDC = (
    "oidc_issuer", "oidc_client_id", "oidc_client_secret_file", "oidc_scopes",
    "oidc_groups_claim", "oidc_username_claim",
)  # fmt: skip


def made_from(*settings: str) -> dict[str, tuple[str, ...]]:
    """The metadata of a field of ``_Made``: the settings it is made from (none: no setting)."""
    return {"from": settings}


@dataclass(frozen=True, kw_only=True)
class _Made:
    """The options the controller takes in another form than a setting's value."""

    manifests: Path = field(metadata=made_from("manifests"))  # with --git-url only: by the db
    api: tuple[str, int] | None = field(default=None, metadata=made_from("api", "no_api"))
    api_token: str | None = field(default=None, metadata=made_from())  # STACKCTL_API_TOKEN
    # STACKCTL_GIT_WEBHOOK_SECRET: the secret of the push webhook of `default`
    webhook_secret: bytes | None = field(default=None, metadata=made_from())
    # --git-url and the other git_* settings: the repository named `default`
    repository: RepositorySpec | None = field(default=None, metadata=made_from(*_GIT))
    retention: RetentionPolicy = field(
        default_factory=RetentionPolicy,
        metadata=made_from("keep_commands", "keep_days", "event_days", "audit_days"),
    )
    notify: tuple[NotifyTarget, ...] = field(default=(), metadata=made_from("notify"))
    # --notify-allow: the destinations manifests may name (none: no destination at all)
    notify_allow: tuple[str, ...] = field(default=(), metadata=made_from("notify_allow"))
    secrets_dir: Path | None = field(default=None, metadata=made_from("secrets_dir"))
    allowed_hosts: tuple[str, ...] = field(default=(), metadata=made_from("allowed_hosts"))
    registry_auth: Path | None = field(default=None, metadata=made_from("registry_auth"))
    # The console's sign-in (the oidc_* settings, the secret read from its file); None: none.
    oidc: OidcConfig | None = field(default=None, metadata=made_from(*_OIDC))
    # The named engines stacks may target (`local` always; more from the --engines file).
    engines: Mapping[str, EngineSpec] = field(
        default_factory=local_only, metadata=made_from("engines")
    )

    @property
    def reach(self) -> Reach:
        """What manifests may name outside their compose part (``--notify-allow``,
        ``--secrets-dir``)."""
        return Reach(notify_allow=self.notify_allow, secrets_dir=self.secrets_dir)

    @property
    def git_dir(self) -> Path:
        """Where repositories are mirrored and checked out (beside the database)."""
        return self.db.parent / "git"  # type: ignore[attr-defined]  # `db`: a setting as it is

    @property
    def files_dir(self) -> Path:
        """Where secrets and configs are written for containers to mount (beside the db)."""
        return self.db.parent / "files"  # type: ignore[attr-defined]


def made_options() -> dict[str, tuple[str, ...]]:
    """Each option made from settings, with the settings it is made from."""
    return {f.name: f.metadata["from"] for f in fields(_Made)}


def taken_as_is(model: type = Settings) -> list[tuple[str, Any, Field[Any]]]:
    """The fields of ``model``'s settings no made option is made from: name, type, default."""
    used = {name for settings in made_options().values() for name in settings}
    taken = []
    for name, info in model.__pydantic_fields__.items():  # type: ignore[attr-defined]
        if name not in used:
            default = field() if info.is_required() else field(default=info.default)
            taken.append((name, info.annotation, default))
    return taken


def options_class(model: type = Settings) -> type:
    """The options of a controller configured by ``model``: ``_Made``'s, and every other
    setting of ``model`` as it is."""
    return make_dataclass(
        "DaemonOptions",
        taken_as_is(model),
        bases=(_Made,),
        frozen=True,
        kw_only=True,
        namespace={"__module__": __name__, "__doc__": "What ``Controller`` is given."},
    )


DaemonOptions = options_class()


def as_is(settings: Any, options: type = DaemonOptions) -> dict[str, Any]:
    """The values of ``settings`` that ``options`` takes as they are, by name."""
    made = made_options()
    return {f.name: getattr(settings, f.name) for f in fields(options) if f.name not in made}
