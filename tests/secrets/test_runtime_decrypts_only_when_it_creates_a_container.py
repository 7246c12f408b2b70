"""The runtime's side of SOPS, without an engine: placeholders replaced and encrypted files put
in a tar for the container, nothing mounted from the host, errors masked, and a key that is gone
at apply time is a permanent error that names the file, not its content."""

from __future__ import annotations

import io
import tarfile
import textwrap
from pathlib import Path

import pytest

from controller.backends.docker.container_spec import container_spec
from controller.backends.docker.problems import unsupported
from controller.backends.shared.decrypt import unseal
from controller.models.errors import PermanentError, TransientError
from controller.sources.loader import load_root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def stack(root, encrypt):
    encrypt(write(root / "app/app.env", "PW=hunter2-db\nDSN=pg://app:${PW}@db\n"), "dotenv")
    encrypt(write(root / "app/token", "file-secret-55"), "binary")
    encrypt(write(root / "app/conf.json", '{"k": "json-secret-44"}'), "json")
    write(
        root / "app/compose.yaml",
        """\
        services:
          web:
            image: busybox
            env_file: app.env
            environment: {URL: "https://h/?pw=${PW:-none}", PLAIN: "yes"}
            secrets: [token]
            configs: [{source: conf, target: /etc/conf.json}]
          locked:
            image: busybox
            read_only: true
            secrets: [token]
        secrets: {token: {file: token}}
        configs: {conf: {file: conf.json}}
        """,
    )
    result = load_root(root)
    assert result.errors == []
    return result.stacks["app"]


def test_placeholders_become_values_and_files_a_tar_for_the_container(stack):
    unsealed = unseal(stack, "web", stack.compose.services["web"].environment)
    assert unsealed.environment == {
        "DSN": "pg://app:hunter2-db@db",
        "PLAIN": "yes",
        "PW": "hunter2-db",
        "URL": "https://h/?pw=none",  # `.env` beside the compose file is not encrypted here
    }
    with tarfile.open(fileobj=io.BytesIO(unsealed.archive)) as tar:
        members = {m.name: (m.mode, m.uid, tar.extractfile(m).read()) for m in tar.getmembers()}
    assert members == {
        "run/secrets/token": (0o444, 0, b"file-secret-55"),
        "etc/conf.json": (0o444, 0, b'{\n\t"k": "json-secret-44"\n}\n'),
    }
    assert {"hunter2-db", "pg://app:hunter2-db@db", "file-secret-55"} <= set(unsealed.secrets)


def test_the_container_spec_holds_placeholders_and_mounts_no_encrypted_file(stack, tmp_path):
    spec = container_spec(
        desired=stack, service_name="web", number=1, name="app-web-1", image="busybox",
        root=tmp_path, files_dir=tmp_path / "files", version="v1",
    )  # fmt: skip
    assert spec.create["environment"]["PW"].startswith("<sops:")
    assert spec.host["mounts"] is None
    assert unsupported(stack) == [
        "services.locked.secrets (token): an encrypted file is copied into the container,"
        " which `read_only: true` forbids"
    ]


def test_an_engine_error_quoting_a_value_is_masked_and_loses_its_cause(stack):
    unsealed = unseal(stack, "web", stack.compose.services["web"].environment)
    try:
        try:
            raise ValueError("engine said: bad env PW=hunter2-db")
        except ValueError as e:
            raise TransientError("creating app-web-1: bad env PW=hunter2-db (400)") from e
    except TransientError as error:
        raised, masked = error, unsealed.mask(error)
    assert masked is raised and str(masked) == "creating app-web-1: bad env PW=*** (400)"
    assert masked.__cause__ is None and masked.__suppress_context__
    plain = TransientError("engine unreachable")
    assert str(unsealed.mask(plain)) == "engine unreachable"


def test_a_key_gone_at_apply_time_is_a_permanent_error_naming_the_file(stack, no_age_key):
    no_age_key()
    with pytest.raises(PermanentError) as caught:
        unseal(stack, "web", stack.compose.services["web"].environment)
    assert str(caught.value).startswith("the encrypted env file ")
    assert str(caught.value).endswith(
        "cannot be decrypted: no age key: set SOPS_AGE_KEY_FILE (stackctl run --sops-age-key-file)"
    )
    with pytest.raises(PermanentError) as caught:
        unseal(stack, "locked", {})
    assert str(caught.value).startswith("token (token) cannot be decrypted: no age key")
