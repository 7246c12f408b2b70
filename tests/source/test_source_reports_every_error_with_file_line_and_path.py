"""Every problem is a ManifestError naming the file, the line, the key path and what is wrong."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from controller.models.errors import ManifestError
from controller.sources.loader import load_root


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content))
    return root


def only_errors(root: Path) -> list[ManifestError]:
    result = load_root(root)
    assert result.errors, "expected errors"
    assert result.stacks == {}
    for error in result.errors:
        assert error.file and error.message
        for internal in ("pydantic", "validation error", "type=", "errors.pydantic.dev"):
            assert internal not in error.message
    return result.errors


def one_error(root: Path) -> ManifestError:
    errors = only_errors(root)
    assert len(errors) == 1, [e.render() for e in errors]
    return errors[0]


def compose(tmp_path: Path, text: str, **extra: str | bytes) -> Path:
    return write(tmp_path, {"app/compose.yaml": text, **extra})


def test_invalid_yaml_has_a_line(tmp_path: Path) -> None:
    error = one_error(compose(tmp_path, "services:\n  web:\n    image: [nginx\n"))
    assert error.file == "app/compose.yaml"
    assert error.line is not None and error.message.startswith("invalid YAML")


def test_duplicate_keys_are_invalid_yaml(tmp_path: Path) -> None:
    error = one_error(compose(tmp_path, "services:\n  web: {image: a}\n  web: {image: b}\n"))
    assert error.line == 3 and "duplicate key `web`" in error.message


def test_a_document_that_is_not_a_mapping(tmp_path: Path) -> None:
    error = one_error(compose(tmp_path, "- just\n- a list\n"))
    assert error.path == "" and "expected a mapping" in error.message


def test_a_top_level_file_that_is_neither_form(tmp_path: Path) -> None:
    error = one_error(write(tmp_path, {"notes.yaml": "hello: world\n"}))
    assert error.file == "notes.yaml" and "neither a Stack manifest" in error.message


def test_wrong_types_and_unknown_keys_are_all_reported(tmp_path: Path) -> None:
    errors = only_errors(
        compose(
            tmp_path,
            """\
            services:
              web:
                image: nginx
                ports: "80:80"
                privileged: maybe
                wrongField: 1
                deploy: {replicas: many}
              db:
                image: postgres
                uts: host
            """,
        )
    )
    found = {(e.path, e.line): e.message for e in errors}
    assert found[("services.web.ports", 4)].startswith("expected a list")
    assert "boolean" in found[("services.web.privileged", 5)]
    assert found[("services.web.wrongField", 6)] == "unknown key"
    assert "whole number" in found[("services.web.deploy.replicas", 7)]
    assert found[("services.db.uts", 10)] == "not supported yet"


def test_unknown_keys_in_a_manifest(tmp_path: Path) -> None:
    errors = only_errors(
        write(
            tmp_path,
            {
                "m.yaml": """\
                apiVersion: stackctl/v1
                kind: Stack
                metadata: {name: shop, owner: me}
                spec:
                  compose: {services: {web: {image: nginx}}}
                  deletionPolicy: Keep
            """
            },
        )
    )
    paths = {e.path: e for e in errors}
    assert paths["metadata.owner"].message == "unknown key" and paths["metadata.owner"].line == 3
    assert "Delete" in paths["spec.deletionPolicy"].message


def test_wrong_api_version_and_kind(tmp_path: Path) -> None:
    errors = only_errors(
        write(
            tmp_path,
            {"m.yaml": "apiVersion: v2\nkind: Stak\nmetadata: {name: a}\nspec: {compose: {}}\n"},
        )
    )
    assert {e.path for e in errors} == {"apiVersion", "kind"}


@pytest.mark.parametrize(
    "name", ["Shop", "shop!", "-shop", "", "a" * 64, "shop.v2"], ids=lambda n: n[:10] or "empty"
)
def test_bad_stack_names(tmp_path: Path, name: str) -> None:
    text = f"apiVersion: stackctl/v1\nkind: Stack\nmetadata: {{name: '{name}'}}\n"
    text += "spec: {compose: {services: {a: {image: x}}}}\n"
    errors = only_errors(write(tmp_path, {"m.yaml": text}))
    assert errors[0].path == "metadata.name" and errors[0].line == 3
    assert load_root(tmp_path).sources["m.yaml"].names == []


def test_bad_compose_name(tmp_path: Path) -> None:
    error = one_error(compose(tmp_path, "name: My_App\nservices: {a: {image: x}}\n"))
    assert (error.path, error.line) == ("name", 1)


def test_a_folder_name_that_normalizes_to_nothing(tmp_path: Path) -> None:
    error = one_error(write(tmp_path, {"___/compose.yaml": "services: {a: {image: x}}\n"}))
    assert "set `name:`" in error.message


def test_two_sources_claiming_one_stack_are_both_invalid(tmp_path: Path) -> None:
    manifest = "apiVersion: stackctl/v1\nkind: Stack\nmetadata: {name: shop}\n"
    manifest += "spec: {compose: {services: {a: {image: x}}}}\n"
    write(tmp_path, {"shop.yaml": manifest, "shop/compose.yaml": "services: {b: {image: y}}\n"})
    result = load_root(tmp_path)
    assert result.stacks == {}
    assert {e.file for e in result.errors} == {"shop.yaml", "shop/compose.yaml"}
    assert all("also defined by" in e.message for e in result.errors)
    assert result.sources["shop.yaml"].names == ["shop"] == result.sources["shop"].names
    assert result.invalid_names == {"shop"}


def test_a_duplicate_inside_one_file(tmp_path: Path) -> None:
    manifest = "apiVersion: stackctl/v1\nkind: Stack\nmetadata: {name: shop}\n"
    manifest += "spec: {compose: {services: {a: {image: x}}}}\n"
    errors = only_errors(write(tmp_path, {"m.yaml": manifest + "---\n" + manifest}))
    assert [e.line for e in errors] == [3, 8]
    assert all("another document of this file" in e.message for e in errors)


def test_an_invalid_claimant_still_blocks_the_valid_one(tmp_path: Path) -> None:
    manifest = "apiVersion: stackctl/v1\nkind: Stack\nmetadata: {name: shop}\n"
    manifest += "spec: {compose: {services: {a: {image: x, bogus: 1}}}}\n"
    write(tmp_path, {"shop.yaml": manifest, "shop/compose.yaml": "services: {b: {image: y}}\n"})
    assert load_root(tmp_path).stacks == {}


def test_missing_compose_file_env_file_and_secret_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a.yaml": "apiVersion: stackctl/v1\nkind: Stack\nmetadata: {name: a}\n"
            "spec: {composeFile: nowhere/compose.yaml}\n",
            "b/compose.yaml": """\
                services:
                  web:
                    image: nginx
                    env_file: [web.env, {path: optional.env, required: false}]
                    secrets: [key]
                secrets:
                  key: {file: key.pem}
            """,
        },
    )
    found = {(e.file, e.path): e.message for e in load_root(tmp_path).errors}
    assert "file not found" in found[("a.yaml", "spec.composeFile")]
    assert "file not found" in found[("b/compose.yaml", "services.web.env_file[0]")]
    assert "file not found" in found[("b/compose.yaml", "secrets.key.file")]
    assert len(found) == 3  # the optional env file is fine; the secret ref is not re-reported


def test_references_outside_the_root_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    write(outside, {"secret.txt": "x", "vars.env": "A=1\n"})
    write(
        root,
        {
            "app/compose.yaml": """\
                services:
                  web:
                    image: nginx
                    env_file: link.env
                    volumes: [../../outside:/data, /var/log:/host-logs:ro]
                    build: {context: ../..}
                secrets:
                  s: {file: ../../outside/secret.txt}
            """
        },
    )
    os.symlink(outside / "vars.env", root / "app" / "link.env")
    errors = only_errors(root)
    paths = {e.path for e in errors}
    assert paths == {
        "services.web.env_file",
        "services.web.volumes[0]",
        "services.web.build.context",
        "secrets.s.file",
    }, [e.render() for e in errors]
    assert all("outside the watched root" in e.message for e in errors)


def test_a_symlinked_compose_file_outside_the_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write(tmp_path, {"elsewhere/compose.yaml": "services: {a: {image: x}}\n"})
    root.mkdir()
    os.symlink(tmp_path / "elsewhere", root / "app")
    error = one_error(root)
    assert "outside the watched root" in error.message


def test_files_over_one_mebibyte_and_binary_files(tmp_path: Path) -> None:
    big = "services: {a: {image: x}}\n" + "#" * (1024 * 1024) + "\n"
    write(
        tmp_path,
        {
            "big/compose.yaml": big,
            "bin/compose.yaml": b"services:\x00\x01\x02",
            "latin/compose.yaml": "services: {a: {image: caf\xe9}}\n".encode("latin-1"),
        },
    )
    found = {e.file: e.message for e in only_errors(tmp_path)}
    assert "1 MiB" in found["big/compose.yaml"]
    assert "binary" in found["bin/compose.yaml"]
    assert "binary" in found["latin/compose.yaml"]


def test_required_variable_without_value(tmp_path: Path) -> None:
    error = one_error(compose(tmp_path, "services:\n  a:\n    image: ${IMAGE:?set IMAGE}\n"))
    assert (error.path, error.line) == ("services.a.image", 3)
    assert error.message == "required variable `IMAGE` is missing a value: set IMAGE"


def test_unknown_dependency_and_cycles(tmp_path: Path) -> None:
    errors = only_errors(
        compose(
            tmp_path,
            """\
            services:
              a: {image: x, depends_on: [b]}
              b: {image: x, depends_on: {c: {condition: service_healthy}}}
              c: {image: x, depends_on: [a]}
              d: {image: x, depends_on: [ghost]}
            """,
        )
    )
    messages = {e.path: e.message for e in errors}
    assert messages["services.d.depends_on.ghost"] == "depends on the unknown service `ghost`"
    cycle = [m for m in messages.values() if m.startswith("dependency cycle")]
    assert cycle == ["dependency cycle: a -> b -> c -> a"]


def test_dependency_on_an_inactive_service(tmp_path: Path) -> None:
    errors = only_errors(
        compose(
            tmp_path,
            """\
            services:
              a: {image: x, depends_on: [tools]}
              b: {image: x, depends_on: {tools: {condition: service_started, required: false}}}
              tools: {image: x, profiles: [dev]}
            """,
        )
    )
    assert [e.path for e in errors] == ["services.a.depends_on.tools"]


def test_optional_dependency_on_an_inactive_service_is_dropped_with_a_warning(
    tmp_path: Path,
) -> None:
    compose(
        tmp_path,
        """\
        services:
          b: {image: x, depends_on: {tools: {condition: service_started, required: false}}}
          tools: {image: x, profiles: [dev]}
        """,
    )
    result = load_root(tmp_path)
    assert result.stacks["app"].compose.services["b"].depends_on == {}
    assert [w.path for w in result.warnings] == ["services.b.depends_on.tools"]


def test_extends_and_include_are_not_supported_yet(tmp_path: Path) -> None:
    errors = only_errors(
        compose(
            tmp_path,
            """\
            include: [other.yaml]
            services:
              a:
                extends: {file: base.yaml, service: web}
            """,
        )
    )
    # Supported since issue 26 (`compose_files`): what is missing is said, with file and key.
    found = {e.path: (e.file, e.line, e.message) for e in errors}
    assert found == {
        "include[0].path": ("app/compose.yaml", 1, "`other.yaml`: file not found"),
        "services.a.extends": ("app/compose.yaml", 4, "`base.yaml`: file not found"),
    }


def test_errors_in_an_inline_compose_carry_the_manifest_key_path(tmp_path: Path) -> None:
    manifest = """\
        apiVersion: stackctl/v1
        kind: Stack
        metadata: {name: shop}
        spec:
          compose:
            services:
              web:
                image: nginx
                ports: ["80:99999"]
    """
    error = one_error(write(tmp_path, {"shop.yaml": manifest}))
    assert (error.file, error.line) == ("shop.yaml", 9)
    assert error.path == "spec.compose.services.web.ports[0]"
    assert "out of range" in error.message


def test_errors_in_a_referenced_compose_file_name_that_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "shop.yaml": "apiVersion: stackctl/v1\nkind: Stack\nmetadata: {name: shop}\n"
            "spec: {composeFile: stacks/shop.yml}\n",
            "stacks/shop.yml": "services:\n  web:\n    image: nginx\n    restart: sometimes\n",
        },
    )
    error = one_error(tmp_path)
    assert (error.file, error.line, error.path) == ("stacks/shop.yml", 4, "services.web.restart")


def test_compose_name_must_match_the_manifest_name(tmp_path: Path) -> None:
    manifest = "apiVersion: stackctl/v1\nkind: Stack\nmetadata: {name: shop}\n"
    manifest += "spec: {compose: {name: other, services: {a: {image: x}}}}\n"
    error = one_error(write(tmp_path, {"m.yaml": manifest}))
    assert error.path == "spec.compose.name"


def test_a_broken_source_does_not_hide_the_valid_ones(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "good/compose.yaml": "services: {a: {image: x}}\n",
            "bad/compose.yaml": "services: {a: {image: x, ports: [nope]}}\n",
        },
    )
    result = load_root(tmp_path)
    assert list(result.stacks) == ["good"]
    assert result.sources["bad"].names == ["bad"] and not result.sources["bad"].valid
    assert result.sources["good"].valid


def test_manifest_and_compose_errors_are_reported_together(tmp_path: Path) -> None:
    manifest = """\
        apiVersion: stackctl/v1
        kind: Stack
        metadata: {name: shop}
        spec:
          deletionPolicy: Keep
          suspend: sometimes
          compose:
            services:
              web: {image: nginx, ports: ["80:99999"]}
    """
    errors = only_errors(write(tmp_path, {"shop.yaml": manifest}))
    assert sorted((e.line, e.path) for e in errors) == [
        (5, "spec.deletionPolicy"),
        (6, "spec.suspend"),
        (9, "spec.compose.services.web.ports[0]"),
    ]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        ('{context: ., dockerfile: D, dockerfile_inline: "FROM x"}', "exclude each other"),
        ('{context: "https://example.com/r.git", dockerfile_inline: "FROM x"}', "local build"),
        ("{context: ., dockerfile_inline: 12}", "expected a string, got int 12"),
    ],
)
def test_inline_dockerfile_problems(tmp_path: Path, build: str, message: str) -> None:
    write(tmp_path, {"app/D": "FROM x\n",
                     "app/compose.yaml": f"services:\n  web:\n    build: {build}\n"})
    [error] = only_errors(tmp_path)
    assert (error.path, error.line) == ("services.web.build.dockerfile_inline", 3)
    assert message in error.message


@pytest.mark.parametrize(
    ("lines", "path", "line", "message"),
    [
        ("ipc: service:db", "services.web.ipc", 4, "not supported yet"),
        ("pid: container:abc", "services.web.pid", 4, "not supported yet"),
        ("pids_limit: 10\n    deploy: {resources: {limits: {pids: 20}}}", "services.web.pids_limit",
         4, "differ"),
        ("oom_score_adj: 5000", "services.web.oom_score_adj", 4, "1000"),
        ("restart: always\n    deploy: {restart_policy: {condition: none}}",
         "services.web.deploy.restart_policy", 5, "differ"),
    ],
)
def test_namespace_limit_and_restart_problems(
    tmp_path: Path, lines: str, path: str, line: int, message: str
) -> None:
    write(tmp_path, {"app/compose.yaml": f"services:\n  web:\n    image: x\n    {lines}\n"})
    [error] = only_errors(tmp_path)
    assert (error.path, error.line) == (path, line)
    assert message in error.message
