"""The loader and SOPS: encrypted env files become placeholders, encrypted secret/config files
stay ciphertext with their format, nothing decrypted reaches the model, and a file that
cannot be decrypted (or an encrypted variable used outside an environment value) makes the
manifest invalid with the reason."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from controller.sources.loader import load_root
from controller.sources.secrets import placeholder, sealed_blobs

PLAINTEXTS = ("hunter2-db", "tok-api-77", "file-secret-55", "yaml-secret-66")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def manifest(root: Path, services: str, *, extra: str = "", env_file: bool = True) -> None:
    spec_env = "  envFile: shop/vars.env\n" if env_file else ""
    body = textwrap.indent(textwrap.dedent(services), "      ")
    tail = textwrap.indent(textwrap.dedent(extra), "    ")
    (root / "shop.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Stack\nmetadata: {name: shop}\nspec:\n"
        f"{spec_env}  compose:\n    services:\n{body}{tail}"
    )


@pytest.fixture
def shop(root: Path, encrypt) -> Path:
    """A Stack with an encrypted compose env_file, an encrypted spec.envFile, an encrypted
    binary secret and an encrypted YAML config."""
    encrypt(write(root / "shop/app.env", 'DB_PASSWORD=hunter2-db\nDSN="pg://app:${DB_PASSWORD}@db"\n'),
            "dotenv")  # fmt: skip
    encrypt(write(root / "shop/vars.env", "API_TOKEN=tok-api-77\n"), "dotenv")
    encrypt(write(root / "shop/token", "file-secret-55\n"), "binary")
    encrypt(write(root / "shop/settings.yaml", "password: yaml-secret-66\n"), "yaml")
    manifest(
        root,
        """\
        web:
          image: busybox
          env_file: shop/app.env
          environment: {AUTH: "Bearer ${API_TOKEN}", MODE: prod}
          secrets: [token]
          configs: [{source: settings, target: /etc/settings.yaml}]
        """,
        extra="""\
        secrets: {token: {file: shop/token}}
        configs: {settings: {file: shop/settings.yaml}}
        """,
    )
    return root


def sha(root: Path, rel: str) -> str:
    import hashlib

    return hashlib.sha256((root / rel).read_bytes()).hexdigest()


def test_encrypted_files_load_as_placeholders_and_ciphertext(shop):
    result = load_root(shop)
    assert result.errors == []
    stack = result.stacks["shop"]
    web = stack.compose.services["web"]
    app, variables = sha(shop, "shop/app.env"), sha(shop, "shop/vars.env")
    assert web.environment == {
        "AUTH": "Bearer " + placeholder(variables, "API_TOKEN"),
        "DB_PASSWORD": placeholder(app, "DB_PASSWORD"),
        "DSN": placeholder(app, "DSN"),
        "MODE": "prod",
    }
    [env_file] = web.env_file
    assert (env_file.sha256, env_file.sops) == (app, True)
    assert stack.compose.secrets["token"].sops == "binary"
    assert stack.compose.configs["settings"].sops == "yaml"
    assert web.secrets[0].sha256 == sha(shop, "shop/token")
    # The stored blobs are the files' bytes, the ciphertext; the model names every one it needs.
    for rel in ("shop/app.env", "shop/vars.env", "shop/token", "shop/settings.yaml"):
        assert stack.files[sha(shop, rel)] == (shop / rel).read_bytes()
    assert sealed_blobs(stack) == {app, variables}
    everything = stack.canonical_json() + "".join(d.decode("latin-1") for d in stack.files.values())
    for secret in PLAINTEXTS:
        assert secret not in everything


def test_loading_again_gives_the_same_digest_and_a_new_ciphertext_a_new_one(shop, encrypt):
    first = load_root(shop).stacks["shop"]
    assert load_root(shop).stacks["shop"].digest == first.digest
    # Same plaintext, encrypted again: other bytes, so another version and another config hash
    # (the model cannot know the plaintext is unchanged without holding it).
    encrypt(write(shop / "shop/app.env", 'DB_PASSWORD=hunter2-db\nDSN="pg://app:${DB_PASSWORD}@db"\n'),
            "dotenv")  # fmt: skip
    again = load_root(shop).stacks["shop"]
    assert again.digest != first.digest
    assert again.service_hashes["web"] != first.service_hashes["web"]


def test_without_the_key_every_encrypted_file_is_an_error_naming_it(shop, no_age_key):
    no_age_key()
    result = load_root(shop)
    assert "shop" not in result.stacks
    reason = "no age key: set SOPS_AGE_KEY_FILE (stackctl run --sops-age-key-file)"
    assert sorted(e.render() for e in result.errors) == sorted(
        [
            f"shop.yaml:5: spec.envFile: `shop/vars.env` is SOPS-encrypted and cannot be"
            f" decrypted: {reason}",
            f"shop.yaml:10: spec.compose.services.web.env_file: `shop/app.env` is SOPS-encrypted"
            f" and cannot be decrypted: {reason}",
            f"shop.yaml:14: spec.compose.secrets.token.file: `shop/token` is SOPS-encrypted and"
            f" cannot be decrypted: {reason}",
            f"shop.yaml:15: spec.compose.configs.settings.file: `shop/settings.yaml` is"
            f" SOPS-encrypted and cannot be decrypted: {reason}",
        ]
    )


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("image: busybox:${API_TOKEN}", "services.web.image"),
        ("image: busybox\n  labels: {a: '${API_TOKEN}'}", "services.web.labels.a"),
        ("image: busybox\n  command: [echo, '${API_TOKEN}']", "services.web.command[1]"),
        ("image: busybox\n  environment: ['${API_TOKEN}=x']", "services.web.environment[0]"),
    ],
)
def test_an_encrypted_variable_outside_an_environment_value_is_an_error(
    root, encrypt, service, path
):
    encrypt(write(root / "shop/vars.env", "API_TOKEN=tok-api-77\n"), "dotenv")
    manifest(root, f"web:\n  {service}\n")
    result = load_root(root)
    assert "shop" not in result.stacks
    messages = [(e.path, e.message) for e in result.errors]
    assert (
        f"spec.compose.{path}",
        "uses SOPS-encrypted variable API_TOKEN; encrypted variables may only be used in"
        " environment values",
    ) in messages
    assert not any("tok-api-77" in e.render() for e in result.errors)


def test_a_secret_from_an_encrypted_variable_is_an_error(root, encrypt):
    encrypt(write(root / "shop/vars.env", "API_TOKEN=tok-api-77\n"), "dotenv")
    manifest(
        root,
        "web: {image: busybox, secrets: [t]}\n",
        extra="secrets: {t: {environment: API_TOKEN}}\n",
    )
    [error] = load_root(root).errors
    assert error.path == "spec.compose.secrets.t.environment"
    assert error.message.startswith("uses SOPS-encrypted variable API_TOKEN;")


def test_a_placeholder_written_by_hand_is_refused(root, encrypt):
    forged = placeholder("a" * 64, "STOLEN")
    write(root / "shop/plain.env", f"X={forged}\n")
    manifest(
        root,
        f"web: {{image: busybox, env_file: shop/plain.env, environment: {{Y: '{forged}'}}}}\n",
        env_file=False,
    )
    errors = sorted((e.path, e.message) for e in load_root(root).errors)
    text = (
        "`<sops:...:STOLEN>` looks like the placeholder of a SOPS-encrypted variable, but no"
        " encrypted env file of this stack made it"
    )
    assert errors == [
        ("spec.compose.services.web.environment.X", text),
        ("spec.compose.services.web.environment.Y", text),
    ]


def test_precedence_is_composes_and_a_plain_env_file_may_use_an_encrypted_variable(root, encrypt):
    encrypt(write(root / "shop/app.env", "A=hunter2-db\nB=hunter2-db\n"), "dotenv")
    encrypt(write(root / "shop/vars.env", "API_TOKEN=tok-api-77\n"), "dotenv")
    write(root / "shop/plain.env", "URL=https://x/?t=${API_TOKEN}\nB=plain-b\n")
    manifest(
        root,
        "web:\n  image: busybox\n  env_file: [shop/app.env, shop/plain.env]\n"
        "  environment: {A: overridden}\n",
    )
    result = load_root(root)
    assert result.errors == []
    env = result.stacks["shop"].compose.services["web"].environment
    assert env == {
        "A": "overridden",
        "B": "plain-b",
        "URL": "https://x/?t=" + placeholder(sha(root, "shop/vars.env"), "API_TOKEN"),
    }


def test_raw_format_and_outside_variables_are_refused_for_encrypted_env_files(root, encrypt):
    encrypt(write(root / "shop/raw.env", "A=hunter2-db\n"), "dotenv")
    encrypt(write(root / "shop/outside.env", "B=${MODE}-hunter2-db\n"), "dotenv")
    manifest(
        root,
        "web:\n  image: busybox\n  env_file:\n    - {path: shop/raw.env, format: raw}\n"
        "    - shop/outside.env\n",
        env_file=False,
    )
    errors = sorted((e.path, e.message) for e in load_root(root).errors)
    assert errors == [
        (
            "spec.compose.services.web.env_file[0].format",
            "`shop/raw.env` is SOPS-encrypted; `format: raw` is not supported",
        ),
        (
            "spec.compose.services.web.env_file[1]",
            "`shop/outside.env` is SOPS-encrypted; its values may use only variables defined"
            " earlier in it, and `MODE` is not",
        ),
    ]


def test_a_folders_encrypted_dotenv_interpolates_into_environment(root, encrypt):
    encrypt(write(root / "app/.env", "PASSWORD=hunter2-db\n"), "dotenv")
    write(
        root / "app/compose.yaml",
        "services:\n  web: {image: busybox, environment: {P: $PASSWORD}}\n",
    )
    result = load_root(root)
    assert result.errors == []
    env = result.stacks["app"].compose.services["web"].environment
    assert env == {"P": placeholder(sha(root, "app/.env"), "PASSWORD")}
