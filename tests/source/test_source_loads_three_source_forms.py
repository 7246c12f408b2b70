"""The watched root holds Stack manifests, compose project folders and plain compose files."""

from __future__ import annotations

import textwrap
from pathlib import Path

from controller.desired import DesiredStack
from controller.sources.loader import load_path, load_root


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content))
    return root


SHOP = textwrap.dedent(
    """\
    apiVersion: stackctl/v1
    kind: Stack
    metadata:
      name: shop
      labels: {team: web}
    spec:
      compose:
        services:
          web: {image: "nginx:1.27", ports: ["127.0.0.1:8080:80"]}
"""
)


def test_inline_manifest_becomes_a_stack_with_default_settings(tmp_path: Path) -> None:
    result = load_root(write(tmp_path, {"shop.yaml": SHOP}))
    assert result.errors == []
    stack = result.stacks["shop"]
    assert isinstance(stack, DesiredStack)
    assert (stack.source, stack.labels) == ("shop.yaml", {"team": "web"})
    assert (stack.suspend, stack.prune, stack.deletion_policy) == (False, True, "Delete")
    port = stack.compose.services["web"].ports[0]
    assert (port.host_ip, port.published, port.target, port.protocol) == (
        "127.0.0.1",
        "8080",
        80,
        "tcp",
    )
    assert result.sources["shop.yaml"].names == ["shop"]
    assert result.sources["shop.yaml"].kind == "manifest"


def test_manifest_settings_are_read(tmp_path: Path) -> None:
    text = SHOP + "  suspend: true\n  prune: false\n  deletionPolicy: Orphan\n"
    stack = load_root(write(tmp_path, {"shop.yaml": text})).stacks["shop"]
    assert (stack.suspend, stack.prune, stack.deletion_policy) == (True, False, "Orphan")


def test_compose_file_manifest_claims_its_folder_and_reads_env(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "shop.yaml": """\
                apiVersion: stackctl/v1
                kind: Stack
                metadata: {name: shop}
                spec:
                  composeFile: shop/compose.yaml
                  envFile: shop/vars.env
                  env: {TAG: "1.27"}
            """,
            "shop/compose.yaml": """\
                services:
                  web:
                    image: nginx:${TAG}
                    environment: {MODE: $MODE}
                    volumes: [./html:/usr/share/nginx/html:ro]
            """,
            "shop/vars.env": "TAG=1.25\nMODE=prod\n",
        },
    )
    result = load_root(tmp_path)
    assert result.errors == []
    assert list(result.stacks) == ["shop"]  # the folder is not a second `shop`
    web = result.stacks["shop"].compose.services["web"]
    assert web.image == "nginx:1.27"  # spec.env wins over envFile
    assert web.environment == {"MODE": "prod"}
    assert web.volumes[0].source == "shop/html" and web.volumes[0].root_relative


def test_project_folder_is_named_after_the_folder_compose_style(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "My.App/compose.yaml": "services:\n  app: {image: 'app:${V}'}\n",
            "My.App/.env": "V=2\n",
        },
    )
    result = load_root(tmp_path)
    assert result.errors == []
    assert result.stacks["myapp"].compose.services["app"].image == "app:2"
    assert result.stacks["myapp"].source == "My.App"
    assert result.sources["My.App"].kind == "folder"


def test_compose_name_wins_for_folders(tmp_path: Path) -> None:
    write(tmp_path, {"folder/compose.yaml": "name: billing\nservices:\n  a: {image: x}\n"})
    assert list(load_root(tmp_path).stacks) == ["billing"]


def test_compose_file_precedence_warns_about_shadowed_files(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "p/docker-compose.yml": "services:\n  old: {image: old}\n",
            "p/compose.yaml": "services:\n  new: {image: new}\n",
        },
    )
    result = load_root(tmp_path)
    assert list(result.stacks["p"].compose.services) == ["new"]
    assert any("docker-compose.yml" in w.message for w in result.warnings)


def test_plain_compose_file_is_a_stack_named_after_the_file(tmp_path: Path) -> None:
    write(tmp_path, {"Web-Site.yml": "services:\n  web: {image: nginx}\n"})
    result = load_root(tmp_path)
    assert list(result.stacks) == ["web-site"]
    assert result.sources["Web-Site.yml"].kind == "compose"


def test_several_manifests_in_one_file(tmp_path: Path) -> None:
    text = SHOP + "---\n" + SHOP.replace("name: shop", "name: blog")
    result = load_root(write(tmp_path, {"sites.yaml": text}))
    assert sorted(result.stacks) == ["blog", "shop"]
    assert result.sources["sites.yaml"].names == ["shop", "blog"]


def test_editor_droppings_hidden_entries_and_other_files_are_skipped(tmp_path: Path) -> None:
    broken = "{ not yaml"
    write(
        tmp_path,
        {
            ".hidden.yaml": broken,
            "shop.yaml~": broken,
            "shop.yaml.tmp": broken,
            ".shop.yaml.swp": broken,
            "x.swp": broken,
            "#shop.yaml#": broken,
            "4913": broken,
            ".git/compose.yaml": broken,
            ".cache/x/compose.yaml": broken,
            "README.md": "# notes",
            "shared/common.env": "A=1\n",
            "shop.yaml": SHOP,
        },
    )
    result = load_root(tmp_path)
    assert result.errors == []
    assert list(result.sources) == ["shop.yaml"]


def test_inactive_profiled_services_are_left_out(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "p/compose.yaml": """\
                services:
                  web: {image: nginx}
                  debug: {image: busybox, profiles: [debug]}
            """
        },
    )
    assert list(load_root(tmp_path).stacks["p"].compose.services) == ["web"]


def test_version_and_extensions_are_accepted(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "p/compose.yaml": """\
                version: "3.8"
                x-common: &common
                  image: nginx
                  restart: always
                services:
                  web:
                    <<: *common
                    x-note: ignored
                    ports: [{target: 80, x-why: docs}]
                networks:
                  back: {x-owner: me}
            """
        },
    )
    result = load_root(tmp_path)
    assert result.errors == []
    web = result.stacks["p"].compose.services["web"]
    assert (web.image, web.restart) == ("nginx", "always")
    assert any("version" in w.message for w in result.warnings)


def test_load_path_takes_a_file_a_compose_file_a_folder_or_a_root(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "shop.yaml": SHOP,
            "blog/compose.yaml": "services:\n  web: {image: ghost}\n",
        },
    )
    assert list(load_path(tmp_path / "shop.yaml").stacks) == ["shop"]
    assert list(load_path(tmp_path / "blog").stacks) == ["blog"]
    assert list(load_path(tmp_path / "blog" / "compose.yaml").stacks) == ["blog"]
    assert sorted(load_path(tmp_path).stacks) == ["blog", "shop"]
    folder = load_path(tmp_path / "blog", root=tmp_path)
    assert folder.stacks["blog"].source == "blog"


def test_result_exposes_secret_bytes_by_content_hash(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "p/compose.yaml": """\
                services:
                  web: {image: nginx, secrets: [token]}
                secrets:
                  token: {file: ./token.txt}
            """,
            "p/token.txt": b"s3cret\x00\xff",
        },
    )
    stack = load_root(tmp_path).stacks["p"]
    secret = stack.compose.secrets["token"]
    assert (secret.origin, secret.file, secret.name) == ("file", "token.txt", "p_token")
    assert stack.files[secret.sha256] == b"s3cret\x00\xff"
    assert stack.compose.services["web"].secrets[0].target == "/run/secrets/token"
    assert "s3cret" not in stack.canonical_json()


def test_a_plain_compose_file_used_as_compose_file_is_not_a_stack_of_its_own(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            "prod.yaml": "apiVersion: stackctl/v1\nkind: Stack\nmetadata: {name: prod}\n"
            "spec: {composeFile: app.yaml, env: {TAG: '2'}}\n",
            "app.yaml": "services:\n  web: {image: 'app:${TAG:-1}'}\n",
        },
    )
    result = load_root(tmp_path)
    assert list(result.stacks) == ["prod"]
    assert result.stacks["prod"].compose.services["web"].image == "app:2"
