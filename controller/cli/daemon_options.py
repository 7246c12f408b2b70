"""The daemon's options (``DaemonOptions``) made from the resolved ``Settings``: every setting
the controller takes as it is passes by itself (a new setting is one field of ``Settings`` and
nothing here); ``_made`` makes the few it takes in another form (``daemon.options._Made``).

Each value is checked here, at start, so that a typo is a usage error naming its flag (exit 2),
not a failure later. Nothing here starts the controller.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from controller.cli.running import engine_specs
from controller.config.settings import Settings

if TYPE_CHECKING:
    from controller.config.oidc import OidcConfig
    from controller.daemon.options import DaemonOptions
    from controller.db import RetentionPolicy
    from controller.desired.delivery import CommitStatus, NotifyTarget
    from controller.desired.repository_spec import RepositorySpec


def daemon_options(settings: Settings) -> DaemonOptions:
    """What ``Controller`` is given: every setting as it is, but those the controller takes in
    another form (``daemon.options._Made``), made here and checked."""
    from controller.daemon.options import DaemonOptions, as_is

    return DaemonOptions(**as_is(settings), **_made(settings))


def _made(settings: Settings) -> dict[str, Any]:
    """The options made from settings (``daemon.options.made_options``), one entry each."""
    return {
        "manifests": _watched(settings),
        "api": None if settings.no_api else _address(settings.api),
        "api_token": os.environ.get("STACKCTL_API_TOKEN") or None,
        "webhook_secret": (os.environ.get("STACKCTL_GIT_WEBHOOK_SECRET") or "").encode() or None,
        "repository": _repository(settings),
        "retention": _retention(settings),
        "notify": _destinations(settings),
        "notify_allow": _allow_patterns(settings),
        "secrets_dir": _absolute(settings.secrets_dir),
        "allowed_hosts": _allowed_hosts(settings),
        "registry_auth": _absolute(settings.registry_auth),
        "engines": engine_specs(settings.engines),
        "oidc": _oidc(settings),
    }


def _oidc(settings: Settings) -> OidcConfig | None:
    """The console's sign-in, or none; a half configuration, a secret file that cannot be read
    or a malformed value is a usage error naming its flag (at start, not at the first sign-in)."""
    from controller.config.oidc import OidcSettingError, oidc_config

    try:
        return oidc_config(settings)
    except OidcSettingError as e:
        raise typer.BadParameter(str(e), param_hint="--" + e.setting.replace("_", "-")) from e


def _watched(settings: Settings) -> Path:
    """The watched directory. There is no default in the current directory (run elsewhere, it
    would silently watch nothing): without one, only a run that follows ``--git-url`` may go
    on, watching an empty ``manifests/`` beside the database (for ``kind: Repository``)."""
    if settings.manifests is not None:
        return settings.manifests
    if settings.git_url:
        folder = settings.db.parent / "manifests"
        settings.db.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # as the db makes it
        folder.mkdir(mode=0o700, exist_ok=True)
        return folder
    raise typer.BadParameter(
        "no watched directory given: pass --manifests DIR (or set STACKCTL_MANIFESTS),"
        " e.g. --manifests ./manifests",
        param_hint="--manifests",
    )


def _retention(settings: Settings) -> RetentionPolicy:
    """What compaction keeps; a value it cannot work with (from STACKCTL_KEEP_*) is a usage
    error naming it."""
    from controller.db import RetentionPolicy

    try:
        return RetentionPolicy(
            keep_commands=settings.keep_commands,
            keep_days=settings.keep_days,
            event_days=settings.event_days,
            audit_days=settings.audit_days,
        )
    except ValueError as e:
        raise typer.BadParameter(f"retention: {e}") from e


def _destinations(settings: Settings) -> tuple[NotifyTarget, ...]:
    """``--notify``/``STACKCTL_NOTIFY``, each checked now: a typo is a usage error at start,
    not a notification lost later."""
    if not settings.notify:
        return ()
    from controller.delivery.notifications.destinations import check_url
    from controller.sources.loader.delivery_keys import parse_destination

    targets = []
    for text in settings.notify.split():
        try:
            target = parse_destination(text)
            check_url(target.url)
        except ValueError as e:
            raise typer.BadParameter(str(e), param_hint="--notify") from e
        targets.append(target)
    return tuple(targets)


def _allow_patterns(settings: Settings) -> tuple[str, ...]:
    """``--notify-allow``/``STACKCTL_NOTIFY_ALLOW``, each checked now (a usage error names it)."""
    from controller.desired.reach import pattern_problem

    patterns = tuple((settings.notify_allow or "").split())
    for pattern in patterns:
        if problem := pattern_problem(pattern):
            raise typer.BadParameter(problem, param_hint="--notify-allow")
    return patterns


def _allowed_hosts(settings: Settings) -> tuple[str, ...]:
    """``--allowed-host``/``STACKCTL_ALLOWED_HOSTS``, each checked now: a name that can never
    match (a URL, a port) is a usage error at start, not a 400 nobody understands later."""
    if not settings.allowed_hosts:
        return ()
    from controller.web.api.hosts import check_pattern

    try:
        return tuple(check_pattern(name) for name in settings.allowed_hosts.split())
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--allowed-host") from e


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise typer.BadParameter(f"--api wants HOST:PORT, like 127.0.0.1:8420, not {text!r}")
    return host.strip("[]"), int(port)


def _repository(settings: Settings) -> RepositorySpec | None:
    """The repository of ``--git-url``, named ``default``; a relative path is from the cwd."""
    if not settings.git_url:
        return None
    from controller.desired.repository_spec import RepositorySpec, redact_url, url_credentials

    url = settings.git_url
    user, password = url_credentials(url)
    if password is not None or (user is not None and settings.git_token_file is None):
        # A process's arguments are readable by every user of the machine (`ps`).
        raise typer.BadParameter(
            f"{redact_url(url)}: a URL given to stackctl run must not carry a password or"
            " token (every user sees a process's arguments in `ps`); put the token in a file"
            " and give --git-token-file FILE (a user name may stay in the URL, e.g."
            " https://oauth2@host/..., with --git-token-file)",
            param_hint="--git-url",
        )
    if url.startswith((".", "..")) or ("://" not in url and Path(url).exists()):
        url = str(Path(url).absolute())
    try:
        return RepositorySpec(
            name="default",
            url=url,
            ref=settings.git_ref,
            path=settings.git_path,
            interval_s=settings.git_interval,
            token_file=_absolute(settings.git_token_file),
            ssh_key_file=_absolute(settings.git_ssh_key_file),
            known_hosts_file=_absolute(settings.git_known_hosts_file),
            webhook_secret_file=_absolute(settings.git_webhook_secret_file),
            commit_status=_commit_status(settings),
        )
    except ValueError as e:  # pydantic's ValidationError is one
        problems = "; ".join(err["msg"] for err in getattr(e, "errors", lambda: [])()) or str(e)
        raise typer.BadParameter(problems, param_hint="--git-*") from e


def _commit_status(settings: Settings) -> CommitStatus | None:
    """``--git-commit-status`` and its token file, or nothing; one without the other is a
    usage error."""
    if not settings.git_commit_status and not settings.git_commit_status_token_file:
        return None
    if not settings.git_commit_status or not settings.git_commit_status_token_file:
        raise typer.BadParameter(
            "give both --git-commit-status PROVIDER and --git-commit-status-token-file FILE",
            param_hint="--git-commit-status",
        )
    from controller.desired.delivery import CommitStatus

    return CommitStatus(
        provider=settings.git_commit_status,  # type: ignore[arg-type]  # pydantic checks it
        token_file=settings.git_commit_status_token_file.absolute(),
        api_url=settings.git_commit_status_api,
    )


def _absolute(path: Path | None) -> Path | None:
    return None if path is None else path.absolute()
