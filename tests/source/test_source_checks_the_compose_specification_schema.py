"""Every compose document is checked against the Compose Specification's JSON schema (the one
Docker Compose v2.40.3 validates with, shipped in ``controller/sources/loader/compose_spec``) after
interpolation and before our own rules: what Compose refuses is refused, with file, line, key
path and the problem, once (issue 24, item 15)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from controller.cli import app
from controller.sources.loader import load_root
from controller.sources.loader.specification import SCHEMA_FILE, schema_validator, verdict_validator


def compose(root: Path, text: str) -> Path:
    (root / "app").mkdir(parents=True, exist_ok=True)
    (root / "app" / "compose.yaml").write_text(text)
    return root


def web(extra: str) -> str:
    return f"services:\n  web:\n    image: nginx\n{extra}"


# name -> (compose file, line, key path, message)
REFUSED: dict[str, tuple[str, int, str, str]] = {
    "memory_as_a_huge_number": (
        web("    deploy: {resources: {limits: {memory: 358664627076357222581}}}\n"), 4,
        "services.web.deploy.resources.limits.memory",
        "expected a string, got int 358664627076357222581",
    ),
    "healthcheck_interval_null": (
        web("    healthcheck:\n      interval: null\n"), 5,
        "services.web.healthcheck.interval", "expected a string, got null",
    ),
    "deploy_resources_null": (
        web("    deploy:\n      resources: null\n"), 5,
        "services.web.deploy.resources", "expected a mapping, got null",
    ),
    "x_key_under_secrets_is_a_secret_with_an_unknown_key": (
        web("") + "secrets:\n  x-shared:\n    anything: 1\n", 6, "secrets.x-shared.anything",
        "unknown key",
    ),
    "x_key_under_configs_is_a_config_not_a_string": (
        web("") + "configs:\n  x-note: hello\n", 5, "configs.x-note",
        "expected a mapping, got str 'hello'",
    ),
    "mem_limit_as_a_list": (
        web("    mem_limit: [1]\n"), 4, "services.web.mem_limit",
        "expected a number or a string, got a list",
    ),
    "ports_as_a_mapping": (
        web("    ports: {web: 80}\n"), 4, "services.web.ports", "expected a list, got a mapping",
    ),
    "depends_on_condition_unknown": (
        web("    depends_on: {db: {condition: when_ready}}\n  db: {image: nginx}\n"), 4,
        "services.web.depends_on.db.condition",
        "expected one of service_started, service_healthy, service_completed_successfully,"
        " got str 'when_ready'",
    ),
    "required_key_missing": (
        web("    depends_on: {db: {required: true}}\n  db: {image: nginx}\n"), 4,
        "services.web.depends_on.db.condition", "required key is missing",
    ),
    "unknown_key": (web("    wrongField: 1\n"), 4, "services.web.wrongField", "unknown key"),
    "top_level_key_unknown": (web("") + "servcies: {}\n", 4, "servcies", "unknown key"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_by_the_schema_with_file_line_key_and_problem(tmp_path: Path, case: str) -> None:
    text, line, path, message = REFUSED[case]
    result = load_root(compose(tmp_path, text))
    assert "app" not in result.stacks
    assert [(e.file, e.line, e.path, e.message) for e in result.errors] == [
        ("app/compose.yaml", line, path, message)
    ]


def test_a_size_beyond_the_engines_64_bit_limit_is_refused_by_our_rules(tmp_path: Path) -> None:
    """As a string the schema takes it; it could never be applied (the engine's 500)."""
    text = web('    deploy: {resources: {limits: {memory: "358664627076357222581"}}}\n')
    result = load_root(compose(tmp_path, text))
    assert [(e.path, e.message) for e in result.errors] == [(
        "services.web.deploy.resources.limits.memory",
        "358664627076357222581 bytes is beyond the engine's limit (2^63-1 bytes)",
    )]


def test_an_x_key_under_secrets_is_a_secret_as_in_compose(tmp_path: Path) -> None:
    """Compose reads `x-` names under secrets/configs/networks/volumes as object names (no
    extension there): a service may use one."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "token").write_text("t")
    text = web("    secrets: [x-token]\n") + "secrets:\n  x-token: {file: ./token}\n"
    result = load_root(compose(tmp_path, text))
    assert result.errors == []
    stack = result.stacks["app"]
    assert stack.compose.secrets["x-token"].name == "app_x-token"


def test_checked_after_interpolation_as_compose_does(tmp_path: Path) -> None:
    """compose-go interpolates, then validates: a variable that makes the value valid is fine,
    one that leaves it invalid is refused at its key."""
    ok = web("    healthcheck: {test: [CMD, 'true'], interval: $EVERY}\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / ".env").write_text("EVERY=5s\n")
    assert load_root(compose(tmp_path, ok)).errors == []


def test_an_inline_compose_document_is_checked_under_its_prefix(tmp_path: Path) -> None:
    manifest = {
        "apiVersion": "stackctl/v1", "kind": "Stack", "metadata": {"name": "shop"},
        "spec": {"compose": {"services": {"web": {"image": "nginx", "healthcheck": {
            "interval": None}}}}},
    }
    (tmp_path / "shop.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    result = load_root(tmp_path)
    assert [(e.file, e.path, e.message) for e in result.errors] == [(
        "shop.yaml", "spec.compose.services.web.healthcheck.interval",
        "expected a string, got null",
    )]


def test_validate_fails_naming_the_key(tmp_path: Path) -> None:
    huge = "    deploy: {resources: {limits: {memory: 358664627076357222581}}}\n"
    root = compose(tmp_path, web(huge))
    result = CliRunner().invoke(app, ["validate", str(root / "app"), "-o", "json"])
    assert result.exit_code == 1, result.output
    [entry] = json.loads(result.output)
    assert entry["valid"] is False
    assert entry["errors"][0]["path"] == "services.web.deploy.resources.limits.memory"


def test_the_schema_is_compose_v2_40_3s_and_loaded_once() -> None:
    text = SCHEMA_FILE.read_text()
    assert json.loads(text)["title"] == "Compose Specification"
    assert (SCHEMA_FILE.parent / "LICENSE").read_text().lstrip().startswith("Apache License")
    assert (SCHEMA_FILE.parent / "NOTICE").exists()
    assert schema_validator() is schema_validator()
    assert verdict_validator() is verdict_validator()

