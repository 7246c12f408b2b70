"""`include`, `extends` (same file and across files), a folder's `compose.override.yaml` and a
manifest's `composeFiles: [a, b]` load as Docker Compose v2 loads them: the real v2 binary
(`docker compose config --format json`, no engine needed) is the oracle, service by service
(image, command, entrypoint, environment, ports, volumes, labels, networks, depends_on,
restart). Problems name the file, the key and what is wrong; a change to an included, extended
or override file reloads the stack (issue 26, item 5)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from helpers.compose_features_oracle import compose_config, compose_view, stackctl_view

from controller.sources.loader import load_path, load_root
from controller.sources.loader.cache import LoadCache

FEATURES = Path(__file__).parent / "compose-features"

# case -> (folder Compose runs in, its -f files: none for its own discovery)
CASES = {
    "include": ("include", ()),
    "extends": ("extends", ()),
    "override": ("override", ()),
    "composeFiles": ("multi/stack", ("base.yaml", "prod.yaml")),
    # .env, env_file, bare names, defaults and COMPOSE_PROFILES as v2 has them (not 1.29)
    "environment": ("environment", ()),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_loaded_services_agree_with_docker_compose_config(case: str, tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(FEATURES, root)
    folder, files = CASES[case]
    compose = compose_view(compose_config(root / folder, *files))
    result = load_path(root / "multi.yaml", root=root) if files else load_path(root / folder)
    assert result.errors == []
    [stack] = result.stacks.values()
    ours = stackctl_view(stack, root if files else root / folder)  # the root it was loaded in
    assert ours == compose
    assert all(view["image"] for view in ours.values())


def test_what_each_feature_merged(tmp_path: Path) -> None:
    """Spot checks of the rules the oracle test covers, readable on their own."""
    root = tmp_path / "root"
    shutil.copytree(FEATURES, root)
    include = load_path(root / "include").stacks["include"].compose
    assert include.services["db"].image == "postgres:16-main"  # the including .env wins
    assert include.services["db"].environment["POSTGRES_DB"] == "fromcommon"  # its own .env
    assert include.services["cache"].labels == {"tier": "extra"}  # its env_file
    assert "dbdata" in include.volumes
    api = load_path(root / "extends").stacks["extends"].compose.services["api"]
    assert api.environment == {"FROM_FILE": "shared", "MODE": "api", "ROOT": "yes"}
    assert [p.published for p in api.ports] == ["8080", "9000"]  # 8080:80 once
    assert api.build is not None and api.build.context == "shared/ctx"
    web = load_path(root / "override").stacks["override"].compose.services["web"]
    assert web.image == "nginx:1.27-alpine" and web.environment == {"A": "1", "B": "2", "C": "3"}
    assert [m.read_only for m in web.volumes] == [False]  # same target: the override's
    env = load_path(root / "environment").stacks["environment"].compose.services
    assert env["s"].environment == {
        "BARE": "from-dotenv", "DEF": "dflt", "FROMFILE": "dot-file", "ONLY": "1"}
    assert set(env) == {"s", "p"}  # COMPOSE_PROFILES=dbg in .env


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def errors_of(root: Path) -> dict[str, tuple[str, int | None, str]]:
    result = load_root(root)
    assert result.stacks == {}
    return {e.path: (e.file, e.line, e.message) for e in result.errors}


def test_an_unknown_extended_service_names_the_file_and_the_service(tmp_path: Path) -> None:
    found = errors_of(write(tmp_path, {
        "app/compose.yaml": "services:\n  a:\n    extends: {file: base.yaml, service: web}\n",
        "app/base.yaml": "services:\n  other: {image: x}\n",
    }))
    assert found == {"services.a.extends": (
        "app/compose.yaml", 3, "`a` extends `web`: no such service in `base.yaml`")}


def test_an_extends_cycle_is_an_error(tmp_path: Path) -> None:
    found = errors_of(write(tmp_path, {"app/compose.yaml": """\
        services:
          a: {extends: b}
          b: {extends: a}
        """}))
    assert found["services.a.extends"][2].startswith("extends cycle: `a` (compose.yaml)")


def test_an_include_cycle_is_an_error(tmp_path: Path) -> None:
    found = errors_of(write(tmp_path, {
        "app/compose.yaml": "include: [sub/compose.yaml]\nservices:\n  a: {image: x}\n",
        "app/sub/compose.yaml": "include: [../compose.yaml]\nservices:\n  b: {image: x}\n",
    }))
    assert found["include[0]"] == (
        "app/sub/compose.yaml", 1,
        "include cycle: `compose.yaml` -> `compose.yaml` -> `compose.yaml`",
    )


def test_a_service_defined_twice_by_an_include_is_a_conflict(tmp_path: Path) -> None:
    found = errors_of(write(tmp_path, {
        "app/compose.yaml": "include: [sub.yaml]\nservices:\n  a: {image: x}\n",
        "app/sub.yaml": "services:\n  a: {image: y}\n",
    }))
    assert found == {"include[0]": ("app/compose.yaml", 1, "`services.a` is defined here and in"
                                    " the included project differently; Compose refuses the"
                                    " conflict")}


def test_an_included_file_outside_the_root_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"outside.yaml": "services:\n  b: {image: x}\n"})
    root = write(tmp_path / "root", {"app/compose.yaml": "include: [../../outside.yaml]\n"
                                     "services:\n  a: {image: x}\n"})
    found = errors_of(root)
    assert found["include[0].path"][2] == (
        "`../../outside.yaml`: `../../outside.yaml` resolves outside the watched root")


def test_an_error_in_an_override_file_is_reported_in_its_name(tmp_path: Path) -> None:
    found = errors_of(write(tmp_path, {
        "app/compose.yaml": "services:\n  a: {image: x}\n",
        "app/compose.override.yaml": "services:\n  a:\n    ports: {bad: 1}\n",
    }))
    assert found["services.a.ports"][:2] == ("app/compose.override.yaml", 3)


def test_a_missing_compose_file_of_a_manifest_names_its_key(tmp_path: Path) -> None:
    found = errors_of(write(tmp_path, {
        "m.yaml": """\
            apiVersion: stackctl/v1
            kind: Stack
            metadata: {name: m}
            spec: {composeFiles: [app/a.yaml, app/b.yaml]}
            """,
        "app/a.yaml": "services:\n  a: {image: x}\n",
    }))
    assert found == {"spec.composeFiles[1]": ("m.yaml", 4, "`app/b.yaml`: file not found")}


@pytest.mark.parametrize("changed", ["app/sub/compose.yaml", "app/base.yaml",
                                     "app/compose.override.yaml"])
def test_a_change_to_an_included_extended_or_override_file_reloads(
    tmp_path: Path, changed: str
) -> None:
    root = write(tmp_path, {
        "app/compose.yaml": "include: [sub/compose.yaml]\nservices:\n"
                            "  a: {extends: {file: base.yaml, service: base}}\n",
        "app/sub/compose.yaml": "services:\n  b: {image: x}\n",
        "app/base.yaml": "services:\n  base: {image: x}\n",
    })
    cache: LoadCache = LoadCache()
    first = load_root(root, cache=cache).stacks["app"].digest
    assert load_root(root, cache=cache).stacks["app"].digest == first
    assert cache.hits == 1
    path = root / changed
    before = path.read_text() if path.exists() else "services:\n  a: {}\n"
    path.write_text(before.replace("{image: x}", "{image: y}").replace("{}", "{image: z}"))
    again = load_root(root, cache=cache).stacks["app"]
    assert again.digest != first
