"""A DesiredStack is stored as its canonical JSON and read back equal, with the same digest."""

from __future__ import annotations

import hashlib
import json
import textwrap
from pathlib import Path

import pytest

from controller.desired import DesiredStack, config_hash
from controller.sources.loader import load_root

RICH = """\
    services:
      web:
        image: nginx:1.27
        build: {context: ./web, args: {A: "1"}}
        command: nginx -g 'daemon off;'
        ports: ["127.0.0.1:8080:80", "9000-9001:90-91/udp"]
        volumes: [./html:/usr/share/nginx/html:ro, cache:/cache, /tmp]
        environment: [MODE=prod]
        env_file: web.env
        secrets: [token]
        configs: [{source: conf, target: /etc/conf, mode: 0440}]
        healthcheck: {test: curl -f localhost, interval: 10s}
        deploy: {replicas: 2, resources: {limits: {cpus: "0.5", memory: 256m}}}
        depends_on: {db: {condition: service_healthy}}
        networks: {front: {aliases: [www]}}
        ulimits: {nofile: 1024}
        logging: {driver: json-file, options: {max-size: 1m}}
        extra_hosts: {db.local: 10.0.0.2}
      db:
        image: postgres:16
        healthcheck: {test: [CMD, pg_isready]}
    networks: {front: {}}
    volumes: {cache: {}}
    secrets: {token: {file: token.txt}}
    configs: {conf: {content: "a=1"}}
"""


def make_stack(tmp_path: Path) -> DesiredStack:
    folder = tmp_path / "shop"
    (folder / "web").mkdir(parents=True)
    (folder / "web" / "Dockerfile").write_text("FROM scratch\n")
    (folder / "compose.yaml").write_text(textwrap.dedent(RICH))
    (folder / "web.env").write_text("FROM_FILE=1\n")
    (folder / "token.txt").write_bytes(b"t0k3n")
    result = load_root(tmp_path)
    assert result.errors == [], [e.render() for e in result.errors]
    return result.stacks["shop"]


def test_canonical_json_is_what_is_digested(tmp_path: Path) -> None:
    stack = make_stack(tmp_path)
    text = stack.canonical_json()
    assert stack.digest == hashlib.sha256(text.encode()).hexdigest()
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    assert "source" not in json.loads(text) and "files" not in json.loads(text)


def test_round_trip_gives_an_equal_stack_with_the_same_digest(tmp_path: Path) -> None:
    stack = make_stack(tmp_path)
    again = DesiredStack.from_canonical_json(
        stack.canonical_json(), source=stack.source, expected_digest=stack.digest
    )
    assert again == stack
    assert again.digest == stack.digest
    assert again.service_hashes == stack.service_hashes
    assert again.canonical_json() == stack.canonical_json()
    via_validate = DesiredStack.model_validate(
        {**json.loads(stack.canonical_json()), "source": "shop"}
    )
    assert via_validate == stack


def test_a_tampered_record_is_refused(tmp_path: Path) -> None:
    stack = make_stack(tmp_path)
    tampered = stack.canonical_json().replace("nginx:1.27", "nginx:evil")
    with pytest.raises(ValueError, match="does not match its digest"):
        DesiredStack.from_canonical_json(tampered, expected_digest=stack.digest)


def test_files_travel_beside_the_model_not_inside(tmp_path: Path) -> None:
    stack = make_stack(tmp_path)
    assert b"t0k3n" in stack.files.values()
    assert "t0k3n" not in stack.canonical_json()
    assert "files" not in stack.model_dump()
    bare = DesiredStack.from_canonical_json(stack.canonical_json(), source=stack.source)
    assert bare.files == {} and bare == stack  # equal: the model refers to files by hash


def test_config_hash_is_per_service_and_leaves_out_scale_and_order(tmp_path: Path) -> None:
    stack = make_stack(tmp_path)
    web = stack.compose.services["web"]
    assert stack.service_hashes["web"] == config_hash(web)
    assert config_hash(web.model_copy(update={"replicas": 9})) == config_hash(web)
    assert config_hash(web.model_copy(update={"depends_on": {}})) == config_hash(web)
    assert config_hash(web.model_copy(update={"pull_policy": "always"})) == config_hash(web)
    assert config_hash(web.model_copy(update={"image": "nginx:1.28"})) != config_hash(web)


def test_stack_names_are_checked_on_the_model_too() -> None:
    with pytest.raises(ValueError):
        DesiredStack.model_validate({"name": "Not Valid", "compose": {}})


def test_frozen(tmp_path: Path) -> None:
    stack = make_stack(tmp_path)
    with pytest.raises(ValueError):
        stack.name = "other"  # type: ignore[misc]


def test_a_changed_copy_gets_a_fresh_digest(tmp_path: Path) -> None:
    stack = make_stack(tmp_path)
    digest, hashes = stack.digest, stack.service_hashes
    suspended = stack.model_copy(update={"suspend": True})
    assert suspended.digest != digest and suspended.service_hashes == hashes
    with_files = stack.model_copy(update={"files": {}})
    assert with_files.digest == digest
