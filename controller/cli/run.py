"""``stackctl run``: the controller daemon (watcher + workers + resync)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from controller.cli.app import app
from controller.cli.running import DB_OPTION, ENGINES_OPTION, TIMEOUT_OPTION, engine_specs
from controller.config import Settings, load_settings
from controller.errors import StackctlError
from controller.logs import configure_logging

if TYPE_CHECKING:
    from controller.db import RetentionPolicy
    from controller.desired.delivery import CommitStatus, NotifyTarget
    from controller.desired.repository import RepositorySpec

log = logging.getLogger("stackctl.controller")


@app.command()
def run(
    manifests: Path | None = typer.Option(
        None,
        envvar="STACKCTL_MANIFESTS",
        help="Watched directory [required; with --git-url only: manifests/ beside the db].",
    ),
    db: Path | None = DB_OPTION,
    workers: int | None = typer.Option(
        None, min=1, envvar="STACKCTL_WORKERS", help="Stacks converged at once [default: 1]."
    ),
    resync: float | None = typer.Option(
        None,
        min=1,
        envvar="STACKCTL_RESYNC",
        help="Seconds between drift checks of every stack [default: 60].",
    ),
    debounce: int | None = typer.Option(
        None,
        min=1,
        envvar="STACKCTL_DEBOUNCE_MS",
        help="Milliseconds of quiet that end a burst of file changes [default: 50].",
    ),
    log_format: str | None = typer.Option(
        None, envvar="STACKCTL_LOG_FORMAT", help="text or json [default: text]."
    ),
    allow_empty: bool = typer.Option(
        False, help="Allow an empty watched directory to delete every stack it produced."
    ),
    timeout: float = TIMEOUT_OPTION,
    max_failures: int | None = typer.Option(
        None,
        min=1,
        envvar="STACKCTL_MAX_FAILURES",
        help="Failed attempts (transient errors) after which a command ends FAILED; the next"
        " resync or edit tries again [default: 5].",
    ),
    keep_commands: int | None = typer.Option(
        None,
        min=1,
        envvar="STACKCTL_KEEP_COMMANDS",
        help="Finished commands kept per stack, whatever their age [default: 100].",
    ),
    keep_days: float | None = typer.Option(
        None,
        min=0,
        envvar="STACKCTL_KEEP_DAYS",
        help="Days a finished command (and its log) is kept beyond those [default: 7].",
    ),
    event_days: float | None = typer.Option(
        None, min=0, envvar="STACKCTL_EVENT_DAYS", help="Days events are kept [default: 30]."
    ),
    api: str | None = typer.Option(
        None, envvar="STACKCTL_API", help="HOST:PORT of the HTTP API [default: 127.0.0.1:8420]."
    ),
    no_api: bool = typer.Option(False, "--no-api", help="Serve no HTTP API."),
    api_open_reads: bool | None = typer.Option(
        None,
        "--api-open-reads/--no-api-open-reads",
        envvar="STACKCTL_API_OPEN_READS",
        help="With STACKCTL_API_TOKEN set, serve the read endpoints without the token too"
        " (they show resolved environment values) [default: no].",
    ),
    console_session_hours: float | None = typer.Option(
        None,
        min=0.1,
        envvar="STACKCTL_CONSOLE_SESSION_HOURS",
        help="Hours a web console session lasts once the token is entered; \"Forget token\""
        " ends it at once [default: 12].",
    ),
    api_body_budget: int | None = typer.Option(
        None,
        min=1,
        envvar="STACKCTL_API_BODY_BUDGET",
        help="MiB of push webhook bodies the API holds at once, all senders together; a body"
        " beyond answers 503 [default: 32].",
    ),
    api_body_timeout: float | None = typer.Option(
        None,
        min=0.1,
        envvar="STACKCTL_API_BODY_TIMEOUT",
        help="Seconds a push webhook body has to arrive, from its headers to its last byte;"
        " then 408 [default: 30].",
    ),
    api_header_timeout: float | None = typer.Option(
        None,
        min=0.1,
        envvar="STACKCTL_API_HEADER_TIMEOUT",
        help="Seconds a connection has to send a request's headers; then 408 and closed"
        " [default: 10].",
    ),
    api_max_connections: int | None = typer.Option(
        None,
        min=1,
        envvar="STACKCTL_API_MAX_CONNECTIONS",
        help="Open HTTP connections at most (kept below the descriptor limit); beyond, the one"
        " waiting longest without a request is closed [default: 1000].",
    ),
    git_url: str | None = typer.Option(
        None,
        envvar="STACKCTL_GIT_URL",
        help="Follow this git repository too (https, ssh, git://, file:// or a path), named"
        " `default`.",
    ),
    git_ref: str | None = typer.Option(
        None, envvar="STACKCTL_GIT_REF", help="Branch, tag or commit of --git-url [default: main]."
    ),
    git_path: str | None = typer.Option(
        None,
        envvar="STACKCTL_GIT_PATH",
        help="Folder of --git-url holding the stack sources [default: the top].",
    ),
    git_interval: float | None = typer.Option(
        None,
        min=1,
        envvar="STACKCTL_GIT_INTERVAL",
        help="Seconds between fetches of --git-url [default: 60].",
    ),
    git_token_file: Path | None = typer.Option(
        None, envvar="STACKCTL_GIT_TOKEN_FILE", help="File holding an HTTPS token."
    ),
    git_ssh_key_file: Path | None = typer.Option(
        None, envvar="STACKCTL_GIT_SSH_KEY_FILE", help="File holding an SSH private key."
    ),
    git_known_hosts_file: Path | None = typer.Option(
        None,
        envvar="STACKCTL_GIT_KNOWN_HOSTS_FILE",
        help="known_hosts for SSH [default: the user's].",
    ),
    git_webhook_secret_file: Path | None = typer.Option(
        None,
        envvar="STACKCTL_GIT_WEBHOOK_SECRET_FILE",
        help="File holding the push webhook's secret [or env STACKCTL_GIT_WEBHOOK_SECRET].",
    ),
    git_commit_status: str | None = typer.Option(
        None,
        envvar="STACKCTL_GIT_COMMIT_STATUS",
        help="Set commit statuses on --git-url's commits: github, gitea, forgejo or gitlab"
        " (needs --git-commit-status-token-file).",
    ),
    git_commit_status_token_file: Path | None = typer.Option(
        None,
        envvar="STACKCTL_GIT_COMMIT_STATUS_TOKEN_FILE",
        help="File holding the forge token that may set commit statuses.",
    ),
    git_commit_status_api: str | None = typer.Option(
        None,
        envvar="STACKCTL_GIT_COMMIT_STATUS_API",
        help="The forge's API address [default: https://api.github.com, else the repository's"
        " host].",
    ),
    git_max_checkout_bytes: int | None = typer.Option(
        None,
        min=1,
        envvar="STACKCTL_GIT_MAX_CHECKOUT_BYTES",
        help="The most bytes one checkout of a repository may hold (its commit's files);"
        " a commit over it is a failed fetch [default: 536870912, 512 MiB].",
    ),
    git_max_checkout_files: int | None = typer.Option(
        None,
        min=1,
        envvar="STACKCTL_GIT_MAX_CHECKOUT_FILES",
        help="The most files one checkout of a repository may hold; a commit over it is a"
        " failed fetch [default: 50000].",
    ),
    notify: list[str] | None = typer.Option(
        None,
        "--notify",
        envvar="STACKCTL_NOTIFY",
        help="Send notifications here: an Apprise URL (json://host/path, ntfy://topic,"
        " mailto://...) or webhook+https://host/path?secret_file=FILE (HMAC-signed JSON);"
        " EVENTS=URL filters, e.g. apply.failed,rollback=json://... Repeatable; a stack's"
        " spec.notify replaces these for that stack.",
    ),
    notify_allow: list[str] | None = typer.Option(
        None,
        "--notify-allow",
        envvar="STACKCTL_NOTIFY_ALLOW",
        help="A destination manifests may name (spec.notify, a Repository's"
        " commitStatus.apiUrl): *, HOST, *.DOMAIN, HOST:PORT, SCHEME:// or"
        " SCHEME://HOST[:PORT]/PATH. Repeatable; link-local and metadata addresses only when"
        " named [default: none; --notify is not checked].",
    ),
    secrets_dir: Path | None = typer.Option(
        None,
        envvar="STACKCTL_SECRETS_DIR",
        help="A folder whose files manifests may name (webhook secret_file, a Repository's"
        " tokenFile...) besides those inside their own root [default: none].",
    ),
    sops_age_key_file: Path | None = typer.Option(
        None,
        envvar="STACKCTL_SOPS_AGE_KEY_FILE",
        help="The age key file that decrypts SOPS-encrypted env, secret and config files"
        " [default: sops's own SOPS_AGE_KEY_FILE].",
    ),
    engines: Path | None = ENGINES_OPTION,
    registry_auth: Path | None = typer.Option(
        None,
        envvar="STACKCTL_REGISTRY_AUTH",
        help="Registry credentials for image updates, a file in Docker's config.json format,"
        " read at each check [default: Docker's own config.json].",
    ),
    public_url: str | None = typer.Option(
        None,
        envvar="STACKCTL_PUBLIC_URL",
        help="The address people reach this controller's pages at (links in notifications"
        " and commit statuses).",
    ),
    allowed_host: list[str] | None = typer.Option(
        None,
        "--allowed-host",
        envvar="STACKCTL_ALLOWED_HOSTS",
        help="A Host name the API and console answer besides the bound address, localhost and"
        " --public-url's host (others get 400: DNS rebinding); `*.example.com` for its"
        " subdomains, `*` for any. Repeatable.",
    ),
) -> None:
    """Watch a directory of manifests and converge the engine to it, until SIGTERM/SIGINT."""
    from controller.daemon import Controller, DaemonOptions

    settings = load_settings(
        {
            "manifests": manifests,
            "db": db,
            "workers": workers,
            "resync": resync,
            "debounce_ms": debounce,
            "log_format": log_format,
            "api": api,
            "api_open_reads": api_open_reads,
            "console_session_hours": console_session_hours,
            "api_body_budget": api_body_budget,
            "api_body_timeout": api_body_timeout,
            "api_header_timeout": api_header_timeout,
            "api_max_connections": api_max_connections,
            "max_failures": max_failures,
            "keep_commands": keep_commands,
            "keep_days": keep_days,
            "event_days": event_days,
            "git_url": git_url,
            "git_ref": git_ref,
            "git_path": git_path,
            "git_interval": git_interval,
            "git_token_file": git_token_file,
            "git_ssh_key_file": git_ssh_key_file,
            "git_known_hosts_file": git_known_hosts_file,
            "git_webhook_secret_file": git_webhook_secret_file,
            "git_commit_status": git_commit_status,
            "git_commit_status_token_file": git_commit_status_token_file,
            "git_commit_status_api": git_commit_status_api,
            "git_max_checkout_bytes": git_max_checkout_bytes,
            "git_max_checkout_files": git_max_checkout_files,
            "notify": " ".join(notify) if notify else None,
            "public_url": public_url,
            "notify_allow": " ".join(notify_allow) if notify_allow else None,
            "secrets_dir": secrets_dir,
            "allowed_hosts": " ".join(allowed_host) if allowed_host else None,
            "sops_age_key_file": sops_age_key_file,
            "registry_auth": registry_auth,
            "engines": engines,
        }
    )
    try:
        configure_logging(settings.log_format)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e
    _use_age_key(settings.sops_age_key_file)
    options = DaemonOptions(
        manifests=_watched(settings),
        db=settings.db,
        workers=settings.workers,
        resync=settings.resync,
        quiet_ms=settings.debounce_ms,
        allow_empty=allow_empty,
        wait_timeout=timeout,
        max_failures=settings.max_failures,
        api=None if no_api else _address(settings.api),
        api_token=os.environ.get("STACKCTL_API_TOKEN") or None,
        api_open_reads=settings.api_open_reads,
        console_session_hours=settings.console_session_hours,
        api_max_connections=settings.api_max_connections,
        api_header_timeout=settings.api_header_timeout,
        api_body_timeout=settings.api_body_timeout,
        api_body_budget=settings.api_body_budget,
        repository=_repository(settings),
        webhook_secret=(os.environ.get("STACKCTL_GIT_WEBHOOK_SECRET") or "").encode() or None,
        retention=_retention(settings),
        notify=_destinations(settings),
        public_url=settings.public_url,
        git_max_checkout_bytes=settings.git_max_checkout_bytes,
        git_max_checkout_files=settings.git_max_checkout_files,
        notify_allow=_allow_patterns(settings),
        secrets_dir=_absolute(settings.secrets_dir),
        allowed_hosts=_allowed_hosts(settings),
        registry_auth=_absolute(settings.registry_auth),
        engines=engine_specs(settings.engines),
    )
    try:
        controller = Controller(options)  # AlreadyRunning when another controller holds the db
    except StackctlError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from e
    controller.install_signal_handlers()
    try:
        code = controller.run()
    except StackctlError as e:  # e.g. the API's port is taken
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from e
    raise typer.Exit(code)


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
        )
    except ValueError as e:
        raise typer.BadParameter(f"retention: {e}") from e


def _use_age_key(path: Path | None) -> None:
    """Every decryption of this process (the loader's check, the runtime's at apply) uses it."""
    if path is None:
        return
    if not path.is_file():
        raise typer.BadParameter(f"{path}: no such file", param_hint="--sops-age-key-file")
    from controller.secrets import configure

    configure(age_key_file=path)


def _destinations(settings: Settings) -> tuple[NotifyTarget, ...]:
    """``--notify``/``STACKCTL_NOTIFY``, each checked now: a typo is a usage error at start,
    not a notification lost later."""
    if not settings.notify:
        return ()
    from controller.delivery.destinations import check_url
    from controller.source.delivery import parse_destination

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
    from controller.api.hosts import check_pattern

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
    from controller.desired.repository import RepositorySpec, redact_url, url_credentials

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
