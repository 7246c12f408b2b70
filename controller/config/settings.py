"""Settings: every setting of the controller declared once, in ``Settings``.

A field gives the name, the type, the default, the validation (``ge=``) and the help
(``description``); its environment variable is ``STACKCTL_`` + the name in capitals, and
``Cli`` says what the command line needs beyond that (another flag name, a repeatable flag).
``stackctl run``'s options (``cli/settings_options.py``), the daemon's options
(``daemon/options.py``) and docs/configuration.md's table (``settings_table``) are made from
it: a new setting is one field here (docs/architecture.md, "A new flag"). ``load_settings``
resolves a flag over ``STACKCTL_*`` over a YAML file over the default, through pydantic-settings;
one frozen value built once at start-up is passed down, and nothing below the CLI reads the
environment for settings. There is no default watched directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass as plain_dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, ValidationError, create_model
from pydantic.dataclasses import dataclass
from pydantic_settings import BaseSettings, EnvSettingsSource, YamlConfigSettingsSource
from pydantic_settings.sources.utils import parse_env_vars

from controller.config.oidc import DEFAULT_GROUPS_CLAIM, DEFAULT_SCOPES, DEFAULT_USERNAME_CLAIM
from controller.config.shared import (
    DB_HELP,
    ENGINES_HELP,
    ENGINES_SHOWN,
    TIMEOUT_HELP,
    TIMEOUT_SECONDS,
)
from controller.config.statedir import default_db, default_state_dir

__all__ = ["ENV_PREFIX", "Cli", "Settings", "default_db", "default_state_dir", "load_settings"]

ENV_PREFIX = "STACKCTL_"


@plain_dataclass(frozen=True)
class Cli:
    """What a setting's command-line option needs beyond its field: another flag name than
    ``--the-name`` (a switch named ``--no-...`` has no negative), repeatable (values joined by
    spaces, as in its variable), the default as the help shows it, or an option other commands
    take too (``shared``: ``--db``, ``--engines``, ``--timeout``, declared in ``cli/running.py``
    with the help of ``config/shared.py``)."""

    flag: str | None = None
    many: bool = False
    shown: str | None = None
    shared: bool = False


def setting(text: str, *, ge: float | None = None, **cli: Any) -> Any:
    """A field's help, its lower bound and its ``Cli`` (kept in the field's metadata)."""
    return Field(description=text, ge=ge, json_schema_extra={"cli": Cli(**cli)})


def cli_of(field: Any) -> Cli:
    """The ``Cli`` of a field of ``Settings`` (``__pydantic_fields__``)."""
    extra = field.json_schema_extra or {}
    return extra.get("cli", Cli())


@dataclass(frozen=True)
class Settings:
    """Everything the controller can be told. Paths are kept as given (relative to the cwd)."""

    db: Annotated[Path, setting(DB_HELP, shared=True)]
    manifests: Annotated[Path | None, setting(
        "Watched directory (required; with --git-url only: manifests/ beside the db).")] = None
    allow_empty: Annotated[bool, setting(
        "Allow an empty watched directory to delete every stack it produced.", shown="no")] = False
    workers: Annotated[int, setting(ge=1, text="Stacks converged at once.")] = 1
    resync: Annotated[float, setting(ge=1, text=
        "Seconds between drift checks of every stack.")] = 60.0
    debounce_ms: Annotated[int, setting(ge=1, text=
        "Milliseconds of quiet that end a burst of file changes.", flag="--debounce")] = 50
    log_format: Annotated[str, setting("text or json.")] = "text"
    api: Annotated[str, setting("HOST:PORT of the HTTP API.")] = "127.0.0.1:8420"
    no_api: Annotated[bool, setting("Serve no HTTP API.", flag="--no-api", shown="no")] = False
    api_open_reads: Annotated[bool, setting(
        "With STACKCTL_API_TOKEN set, serve the read endpoints without the token too (they show"
        " resolved environment values).", shown="no")] = False
    access_policy: Annotated[Path | None, setting(
        "The access policy file (kind: AccessPolicy): which role people signed in hold, by user"
        " name or group, on which stacks. Keep it outside the watched folder; read again when it"
        " changes.", shown="none: people signed in hold no role")] = None
    console_session_hours: Annotated[float, setting(ge=0.1, text=
        "Hours a web console session lasts once the token is entered or a person signs in;"
        " \"Forget token\" or \"Sign out\" ends it at once.")] = 12.0
    # Sign-in with OpenID Connect (controller.config.oidc): the first three go together.
    oidc_issuer: Annotated[str | None, setting(
        "Sign people in to the web console with this OpenID Connect provider: its issuer URL"
        " (discovery at ISSUER/.well-known/openid-configuration; docs/sign-in.md). Needs"
        " --oidc-client-id and --oidc-client-secret-file.", shown="none: no sign-in")] = None
    oidc_client_id: Annotated[str | None, setting(
        "This controller's client id at the provider (its redirect URI:"
        " PUBLIC_URL/ui/auth/callback).")] = None
    oidc_client_secret_file: Annotated[Path | None, setting(
        "File holding the client's secret (read once at start).")] = None
    oidc_scopes: Annotated[str, setting(
        "Scopes asked for at sign-in, space-separated (add the one your provider wants for"
        " groups, e.g. groups).")] = DEFAULT_SCOPES
    oidc_groups_claim: Annotated[str, setting(
        "The claim (ID token or userinfo) listing a person's groups.")] = DEFAULT_GROUPS_CLAIM
    oidc_username_claim: Annotated[str, setting(
        "The claim naming a person; without it, their email, else their subject (sub).")
    ] = DEFAULT_USERNAME_CLAIM
    api_body_budget: Annotated[int, setting(ge=1, text=
        "MiB of push webhook bodies the API holds at once, all senders together; a body beyond"
        " answers 503.")] = 32
    api_body_timeout: Annotated[float, setting(ge=0.1, text=
        "Seconds a push webhook body has to arrive, from its headers to its last byte; then"
        " 408.")] = 30.0
    api_header_timeout: Annotated[float, setting(ge=0.1, text=
        "Seconds a connection has to send a request's headers; then 408 and closed.")] = 10.0
    api_max_connections: Annotated[int, setting(ge=1, text=
        "Open HTTP connections at most (kept below the descriptor limit); beyond, the one"
        " waiting longest without a request is closed.")] = 1000
    max_failures: Annotated[int, setting(ge=1, text=
        "Failed attempts (transient errors) after which a command ends FAILED; the next resync"
        " or edit tries again.")] = 5
    timeout: Annotated[float, setting(TIMEOUT_HELP, ge=0, shared=True)] = TIMEOUT_SECONDS
    # Retention (``RetentionPolicy``'s defaults; a test keeps them equal); versions stay.
    keep_commands: Annotated[int, setting(ge=1, text=
        "Finished commands kept per stack, whatever their age.")] = 100
    keep_days: Annotated[float, setting(ge=0, text=
        "Days a finished command (and its log) is kept beyond those.")] = 7.0
    event_days: Annotated[float, setting(ge=0, text="Days events are kept.")] = 30.0
    audit_days: Annotated[float, setting(ge=1, text=
        "Days audit log entries are kept (who changed what); nothing else deletes them.")] = 365.0
    # The repository declared by flags (named `default`); more come from `kind: Repository`.
    git_url: Annotated[str | None, setting(
        "Follow this git repository too (https, ssh, git://, file:// or a path), named"
        " `default`.")] = None
    git_ref: Annotated[str, setting("Branch, tag or commit of --git-url.")] = "main"
    git_path: Annotated[str, setting(
        "Folder of --git-url holding the stack sources.", shown="the top")] = "."
    git_interval: Annotated[float, setting(ge=1, text=
        "Seconds between fetches of --git-url.")] = 60.0
    git_token_file: Annotated[Path | None, setting("File holding an HTTPS token.")] = None
    git_ssh_key_file: Annotated[Path | None, setting("File holding an SSH private key.")] = None
    git_known_hosts_file: Annotated[Path | None, setting(
        "known_hosts for SSH.", shown="the user's")] = None
    git_webhook_secret_file: Annotated[Path | None, setting(
        "File holding the push webhook's secret (or the secret itself in env"
        " STACKCTL_GIT_WEBHOOK_SECRET).")] = None
    git_commit_status: Annotated[str | None, setting(
        "Set commit statuses on --git-url's commits: github, gitea, forgejo or gitlab (needs"
        " --git-commit-status-token-file).")] = None
    git_commit_status_token_file: Annotated[Path | None, setting(
        "File holding the forge token that may set commit statuses.")] = None
    git_commit_status_api: Annotated[str | None, setting(
        "The forge's API address.",
        shown="https://api.github.com, else the repository's host")] = None
    git_max_checkout_bytes: Annotated[int, setting(ge=1, text=
        "The most bytes one checkout of a repository may hold (its commit's files); a commit"
        " over it is a failed fetch.", shown="536870912, 512 MiB")] = 512 * 1024 * 1024
    git_max_checkout_files: Annotated[int, setting(ge=1, text=
        "The most files one checkout of a repository may hold; a commit over it is a failed"
        " fetch.")] = 50_000
    notify: Annotated[str | None, setting(
        "Send notifications here: an Apprise URL (json://host/path, ntfy://topic, mailto://...)"
        " or webhook+https://host/path?secret_file=FILE (HMAC-signed JSON); EVENTS=URL filters,"
        " e.g. apply.failed,rollback=json://... Repeatable; a stack's spec.notify replaces these"
        " for that stack.", many=True)] = None
    public_url: Annotated[str | None, setting(
        "The address people reach this controller's pages at (links in notifications and"
        " commit statuses).")] = None
    notify_allow: Annotated[str | None, setting(
        "A destination manifests may name (spec.notify, a Repository's commitStatus.apiUrl): *,"
        " HOST, *.DOMAIN, HOST:PORT, SCHEME:// or SCHEME://HOST[:PORT]/PATH. Repeatable;"
        " link-local and metadata addresses only when named.", many=True,
        shown="none; --notify is not checked")] = None
    secrets_dir: Annotated[Path | None, setting(
        "A folder whose files manifests may name (webhook secret_file, a Repository's"
        " tokenFile...) besides those inside their own root.", shown="none")] = None
    allowed_hosts: Annotated[str | None, setting(
        "A Host name the API and console answer besides the bound address, localhost and"
        " --public-url's host (others get 400: DNS rebinding); *.example.com for its"
        " subdomains, * for any. Repeatable.", flag="--allowed-host", many=True)] = None
    sops_age_key_file: Annotated[Path | None, setting(
        "The age key file that decrypts SOPS-encrypted env, secret and config files.",
        shown="sops's own SOPS_AGE_KEY_FILE")] = None
    registry_auth: Annotated[Path | None, setting(
        "Registry credentials for image updates, a file in Docker's config.json format, read at"
        " each check.", shown="Docker's own config.json")] = None
    engines: Annotated[Path | None, setting(ENGINES_HELP, shared=True, shown=ENGINES_SHOWN)] = None

    @property
    def files_dir(self) -> Path:
        """Where secrets and configs are written for containers to mount (beside the db)."""
        return self.db.parent / "files"


def shown_default(name: str, model: type = Settings) -> str | None:
    """The default a setting has when given nowhere, as the help and the docs show it."""
    field = model.__pydantic_fields__[name]  # type: ignore[attr-defined]
    shown = cli_of(field).shown
    if shown is None and field.default is not None and not field.is_required():
        shown = str(field.default)
    return shown


def settings_table(model: type = Settings) -> str:
    """docs/configuration.md's table of settings (``scripts/settings_table.py`` writes it)."""
    rows = [
        "| Setting (YAML key) | Flag | Environment variable | Default | What it is |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, field in model.__pydantic_fields__.items():  # type: ignore[attr-defined]
        flag = cli_of(field).flag or "--" + name.replace("_", "-")
        default = "per user (see above)" if name == "db" else shown_default(name, model) or ""
        text = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{name}` | `{flag}` | `{ENV_PREFIX}{name.upper()}` | {default} | {text} |")
    return "\n".join(rows) + "\n"


def load_settings(
    flags: Mapping[str, object] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    euid: int | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Resolve every setting: a flag given (not ``None``) wins over ``STACKCTL_<NAME>``, which
    wins over ``config_file`` (YAML: ``stackctl run --config``), which wins over the default
    (the database's depends on the user: ``default_db``)."""
    environ = os.environ if environ is None else environ
    euid = os.geteuid() if euid is None else euid
    values = _resolve(flags=flags or {}, environ=environ, config_file=config_file)
    values.setdefault("db", default_db(euid=euid, environ=environ))
    return Settings(**values)


class _Raw(BaseSettings):
    """The settings as pydantic-settings' sources read them, untyped (``Settings`` types them,
    so that an error can name where the value came from)."""


@cache
def _raw_model() -> type[BaseSettings]:
    names = {name: (Any, None) for name in Settings.__pydantic_fields__}
    return create_model("RawSettings", __base__=_Raw, **names)  # type: ignore[call-overload,no-any-return]


class _Environment(EnvSettingsSource):
    """``STACKCTL_<NAME>`` from ``environ`` (``os.environ`` unless a test gives another)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls, case_sensitive=False, env_prefix=ENV_PREFIX)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # pydantic-settings' one place that reads os.environ (2.x): a test gives its own. The
        # variables are STACKCTL_<NAME> in capitals only, as they always were.
        exact = {key: value for key, value in self._environ.items() if key == key.upper()}
        return parse_env_vars(exact, False, self.env_ignore_empty, self.env_parse_none_str)


def _from_file(path: Path) -> dict[str, Any]:
    """The settings a YAML file gives: a mapping of setting names; anything else (an unknown
    name, a list, broken YAML) is an error naming the file and what is wrong."""
    if not path.is_file():  # pydantic-settings would take a missing file for an empty one
        raise ValueError(f"{path}: no such settings file")
    try:
        data = YamlConfigSettingsSource(_raw_model(), yaml_file=path)()
    except (OSError, yaml.YAMLError) as e:
        raise ValueError(f"{path}: cannot read the settings file: {e}") from e
    except (ValueError, TypeError, AttributeError) as e:  # not a mapping at the top
        raise ValueError(f"{path}: a settings file is a mapping of setting: value") from e
    known = Settings.__pydantic_fields__
    for key in data:
        if key not in known:
            raise ValueError(
                f"{path}: unknown setting {key!r}; the settings are {', '.join(sorted(known))}"
            )
    return data


def _resolve(
    *, flags: Mapping[str, object], environ: Mapping[str, str], config_file: Path | None
) -> dict[str, Any]:
    """The value of each setting given anywhere, a flag over the environment over the file,
    checked by ``Settings``' fields (an error names the flag, the variable or the file)."""
    known = Settings.__pydantic_fields__
    unknown = set(flags) - set(known)
    if unknown:
        raise TypeError(f"unknown settings: {sorted(unknown)}")
    origins: dict[str, str] = {}
    values: dict[str, Any] = {}
    layers = [
        (_from_file(config_file) if config_file else {}, lambda k, v: f"{config_file}: {k}={v!r}"),
        (_Environment(_raw_model(), environ)(), lambda k, v: f"{ENV_PREFIX}{k.upper()}={v!r}"),
        ({k: v for k, v in flags.items() if v is not None}, lambda k, v: f"{k}={v!r}"),
    ]
    for layer, origin in layers:
        for key, value in layer.items():
            values[key], origins[key] = value, origin(key, value)
    try:
        checked = Settings(**{"db": Path("."), **values})
    except ValidationError as e:
        problems = [f"{origins.get(str(err['loc'][0]), err['loc'][0])}: {err['msg']}"
                    for err in e.errors()]
        raise ValueError("; ".join(problems)) from None
    return {key: getattr(checked, key) for key in values}
