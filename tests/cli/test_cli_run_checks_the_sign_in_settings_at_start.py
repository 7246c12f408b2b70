"""``stackctl run --oidc-*``: the console's sign-in is checked at start. The three settings that
go together given in part, a client secret file that is missing or empty, an issuer that is no
URL, scopes without openid: each a usage error naming its flag, and no database is made. Given
whole (from flags, STACKCTL_OIDC_* or a config file), they are one ``OidcConfig`` for the API,
with the secret read from its file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from controller.cli import app
from controller.cli.daemon_options import daemon_options
from controller.config.oidc import OidcConfig, OidcSettingError, oidc_config
from controller.config.settings import load_settings

runner = CliRunner()


def said(output: str) -> str:
    return " ".join(re.sub("[│╭╮╰╯─]", " ", output).split())


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "client-secret"
    path.write_text("s3cret\n")
    return path


def run(tmp_path: Path, *flags: str) -> tuple[int, str]:
    args = ["run", "--no-api", "--db", str(tmp_path / "s.db"), "--manifests", str(tmp_path)]
    result = runner.invoke(app, [*args, *flags])
    return result.exit_code, said(result.output)


def test_half_a_configuration_is_a_usage_error_naming_what_is_missing(tmp_path: Path, secret):
    code, output = run(tmp_path, "--oidc-issuer", "https://id.example.com/realms/ops")
    assert code == 2
    assert "--oidc-client-id" in output and "oidc_client_secret_file missing" in output
    code, output = run(
        tmp_path, "--oidc-client-id", "stackctl", "--oidc-client-secret-file", str(secret)
    )
    assert code == 2 and "--oidc-issuer" in output and "oidc_issuer missing" in output
    assert not (tmp_path / "s.db").exists()


@pytest.mark.parametrize(
    ("change", "flag", "says"),
    [
        ({"oidc_client_secret_file": "missing"}, "--oidc-client-secret-file", "cannot read"),
        ({"oidc_client_secret_file": "empty"}, "--oidc-client-secret-file", "is empty"),
        ({"oidc_issuer": "id.example.com"}, "--oidc-issuer", "is not an https://"),
        ({"oidc_issuer": "https://id.example.com/?x=1"}, "--oidc-issuer", "no ?query"),
        ({"oidc_scopes": "profile email"}, "--oidc-scopes", "must include the scope openid"),
        ({"oidc_groups_claim": " "}, "--oidc-groups-claim", "cannot be empty"),
    ],
)
def test_a_setting_that_cannot_work_is_a_usage_error_naming_its_flag(
    tmp_path: Path, secret: Path, change: dict[str, str], flag: str, says: str
):
    (tmp_path / "empty").write_text("  \n")
    values = {
        "oidc_issuer": "https://id.example.com",
        "oidc_client_id": "stackctl",
        "oidc_client_secret_file": str(secret),
        **change,
    }
    if values["oidc_client_secret_file"] in ("missing", "empty"):
        values["oidc_client_secret_file"] = str(tmp_path / values["oidc_client_secret_file"])
    flags = [
        part for name, value in values.items() for part in (f"--{name.replace('_', '-')}", value)
    ]
    code, output = run(tmp_path, *flags)
    assert code == 2, output
    assert flag in output and says in output
    assert not (tmp_path / "s.db").exists()


def test_the_settings_whole_are_one_config_with_the_secret_read(tmp_path: Path, secret: Path):
    environ = {
        "HOME": str(tmp_path),
        "STACKCTL_OIDC_ISSUER": "https://id.example.com/realms/ops/",
        "STACKCTL_OIDC_CLIENT_ID": "stackctl",
        "STACKCTL_OIDC_CLIENT_SECRET_FILE": str(secret),
        "STACKCTL_OIDC_SCOPES": "openid  profile groups",
    }
    settings = load_settings({"manifests": tmp_path}, environ=environ)
    options = daemon_options(settings)
    assert options.oidc == OidcConfig(
        issuer="https://id.example.com/realms/ops/",  # kept as given: `iss` must equal it
        client_id="stackctl",
        client_secret="s3cret",
        scopes="openid profile groups",
        groups_claim="groups",
        username_claim="preferred_username",
    )
    assert "s3cret" not in repr(options.oidc)
    assert options.oidc.discovery_url == (
        "https://id.example.com/realms/ops/.well-known/openid-configuration"
    )


def test_no_sign_in_settings_no_sign_in(tmp_path: Path):
    settings = load_settings({"manifests": tmp_path}, environ={"HOME": str(tmp_path)})
    assert daemon_options(settings).oidc is None


def test_another_provider_or_client_is_another_session_digest(secret: Path):
    def digest(issuer: str, client: str) -> str:
        return OidcConfig(issuer, client, "s").session_digest

    first = digest("https://a.example.com", "stackctl")
    assert first == digest("https://a.example.com", "stackctl")
    assert first != digest("https://b.example.com", "stackctl")
    assert first != digest("https://a.example.com", "other")


def test_the_error_names_the_setting(tmp_path: Path):
    settings = load_settings(
        {"manifests": tmp_path, "oidc_client_id": "x"}, environ={"HOME": str(tmp_path)}
    )
    with pytest.raises(OidcSettingError) as raised:
        oidc_config(settings)
    assert raised.value.setting == "oidc_issuer"
