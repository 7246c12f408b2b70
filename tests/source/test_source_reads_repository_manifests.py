"""``kind: Repository`` manifests in the watched directory: what they declare, and each
mistake reported with its file, line and key, without echoing a credential."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.desired.reach import Reach
from controller.sources.loader import load_root

# The files this operator keeps outside the watched directory (--secrets-dir).
OPERATOR = Reach(secrets_dir=Path("/etc/stackctl"))

VALID = """\
apiVersion: stackctl/v1
kind: Repository
metadata: {name: infra}
spec:
  url: https://git.example.com/ops/infra.git
  ref: release
  path: stacks/
  interval: 90s
  auth: {tokenFile: secrets/token}
  webhook: {secretFile: /etc/stackctl/hook}
"""


def test_a_valid_manifest_declares_the_repository(tmp_path: Path) -> None:
    (tmp_path / "infra.yaml").write_text(VALID)
    result = load_root(tmp_path, reach=OPERATOR)
    assert result.errors == []
    spec = result.repositories["infra"]
    assert spec.url == "https://git.example.com/ops/infra.git"
    assert (spec.ref, spec.path, spec.interval_s) == ("release", "stacks", 90.0)
    assert spec.token_file == tmp_path / "secrets" / "token"  # from the manifest's folder
    assert spec.webhook_secret_file == Path("/etc/stackctl/hook")
    assert result.sources["infra.yaml"].repositories == ["infra"]
    assert result.stacks == {}


def test_defaults_and_a_relative_local_url(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Repository\nmetadata: {name: local}\n"
        "spec: {url: ../infra.git}\n"
    )
    spec = load_root(tmp_path).repositories["local"]
    assert spec.url == str((tmp_path / "../infra.git").absolute())
    assert (spec.ref, spec.path, spec.interval_s) == ("main", ".", 60.0)


def test_a_repository_and_a_stack_in_one_file(tmp_path: Path) -> None:
    (tmp_path / "both.yaml").write_text(
        VALID + "---\napiVersion: stackctl/v1\nkind: Stack\nmetadata: {name: web}\n"
        "spec: {compose: {services: {web: {image: busybox}}}}\n"
    )
    result = load_root(tmp_path, reach=OPERATOR)
    assert result.errors == []
    assert set(result.repositories) == {"infra"} and set(result.stacks) == {"web"}


@pytest.mark.parametrize(
    ("spec", "key", "words"),
    [
        ("{ref: main}", "spec.url", "missing"),
        ("{url: 'https://h/x.git', interval: 10}", "spec.interval", "unit"),
        ("{url: 'https://h/x.git', interval: 500ms}", "spec.interval", "at least 1s"),
        ("{url: 'https://h/x.git', branch: main}", "spec.branch", "unknown key"),
        (
            "{url: 'git@h:x.git', auth: {tokenFile: t}}",
            "spec.auth.tokenFile",
            "only used with https",
        ),
        ("{url: 'ext::sh -c touch% /tmp/x'}", "spec.url", "remote helper"),
        ("{url: 'https://h/x.git', path: ../up}", "spec.path", "inside the repository"),
        ("{url: 'https://h/x.git', ref: 'a..b'}", "spec.ref", "not a valid"),
    ],
)
def test_each_mistake_names_file_line_and_key(
    tmp_path: Path, spec: str, key: str, words: str
) -> None:
    (tmp_path / "repo.yaml").write_text(
        f"apiVersion: stackctl/v1\nkind: Repository\nmetadata: {{name: infra}}\nspec: {spec}\n"
    )
    result = load_root(tmp_path)
    assert result.repositories == {}
    (error,) = result.sources["repo.yaml"].errors
    assert error.file == "repo.yaml"
    assert error.line is not None
    assert error.path == key, error.render()
    assert words in error.message, error.render()


def test_a_bad_name_is_reported_at_metadata_name(tmp_path: Path) -> None:
    (tmp_path / "repo.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Repository\nmetadata: {name: ../x}\n"
        "spec: {url: 'https://h/x.git'}\n"
    )
    (error,) = load_root(tmp_path).sources["repo.yaml"].errors
    assert error.path == "metadata.name"


def test_a_password_in_a_refused_url_is_never_echoed(tmp_path: Path) -> None:
    (tmp_path / "repo.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Repository\nmetadata: {name: infra}\n"
        "spec: {url: 'https://ann:hunter2@h/x.git', auth: {sshKeyFile: k}}\n"
    )
    result = load_root(tmp_path)
    rendered = " ".join(e.render() for e in result.errors)
    assert result.errors and "hunter2" not in rendered


def test_one_name_declared_twice_is_invalid_in_both(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID)
    (tmp_path / "b.yaml").write_text(VALID)
    result = load_root(tmp_path, reach=OPERATOR)
    assert result.repositories == {}
    for source in ("a.yaml", "b.yaml"):
        (error,) = result.sources[source].errors
        assert "also declared by" in error.message and error.path == "metadata.name"
