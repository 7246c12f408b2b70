"""SOPS end to end on the real engine: files -> watcher -> version -> worker -> containers.

An encrypted compose ``env_file``, an encrypted ``spec.envFile`` variable used in an
environment value, and an encrypted secret file and config converge; the container sees the
plaintext (``docker exec``), and the plaintext is nowhere else: not in the database file (nor
its WAL), the command logs, the events, the worker's output, Python's log records, any API
response, or what ``stackctl describe``, ``history``, ``diff`` and ``validate`` print.
Applying again changes nothing. Without the key a changed file is an invalid manifest and the
last good version keeps running; with the key back it applies.
"""

from __future__ import annotations

import logging
import textwrap
import warnings
from pathlib import Path

import pytest
from helpers.harness import make_harness
from typer.testing import CliRunner

from controller.cli import app
from controller.models import CommandStatus, CommandType
from controller.sources.watcher import Watcher
from controller.web.api import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.engine

TOKEN = "api-token-for-the-test"
PLAINTEXTS = ("hunter2-db", "tok-api-77", "file-secret-55", "yaml-secret-66")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def shop(root: Path, name: str, image: str, encrypt) -> None:
    encrypt(write(root / "shop/app.env", 'DB_PASSWORD=hunter2-db\nDSN="pg://app:${DB_PASSWORD}@db"\n'),
            "dotenv")  # fmt: skip
    encrypt(write(root / "shop/vars.env", "API_TOKEN=tok-api-77\n"), "dotenv")
    encrypt(write(root / "shop/token", "file-secret-55\n"), "binary")
    encrypt(write(root / "shop/settings.yaml", "password: yaml-secret-66\n"), "yaml")
    write(
        root / "shop.yaml",
        f"""\
        apiVersion: stackctl/v1
        kind: Stack
        metadata: {{name: {name}}}
        spec:
          envFile: shop/vars.env
          compose:
            services:
              web:
                image: {image}
                pull_policy: never
                command: [sleep, "3600"]
                init: true
                env_file: shop/app.env
                environment: {{AUTH: "Bearer ${{API_TOKEN}}", MODE: prod}}
                secrets: [token]
                configs: [{{source: settings, target: /etc/app/settings.yaml}}]
            secrets: {{token: {{file: shop/token}}}}
            configs: {{settings: {{file: shop/settings.yaml}}}}
        """,
    )


def run_pending(h, name: str):
    outcome = h.worker.run_next()
    assert outcome is not None and outcome.command.stack_id == name
    return outcome


def inside(docker_client, container_id: str, *command: str) -> str:
    result = docker_client.containers.get(container_id).exec_run(list(command))
    assert result.exit_code == 0, result.output
    return result.output.decode()


def api_responses(db_path: Path, name: str) -> list[str]:
    """Every read endpoint's answer about the stack, its versions, commands and events."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    bodies = []
    with TestClient(create_app(db_path=db_path, token=TOKEN)) as client:

        def get(url: str) -> dict:
            response = client.get(f"/api/v1{url}", headers=headers)
            assert response.status_code == 200, (url, response.text)
            bodies.append(response.text)
            return response.json()

        get("/stacks")
        get(f"/stacks/{name}")
        for version in get(f"/stacks/{name}/versions")["items"]:
            get(f"/stacks/{name}/versions/{version['version']}")
        for command in get("/commands?limit=100")["items"]:
            get(f"/commands/{command['command_id']}")
            get(f"/commands/{command['command_id']}/logs")
        get("/events?limit=200")
        bodies.append(client.get("/metrics").text)
    assert len(bodies) >= 8
    return bodies


def assert_no_plaintext(where: str, text: str | bytes) -> None:
    for secret in PLAINTEXTS:
        needle = secret.encode() if isinstance(text, bytes) else secret
        assert needle not in text, f"{secret} found in {where}"


def test_encrypted_env_and_files_converge_and_leak_nowhere(
    tmp_path, root, engine_janitor, test_images, docker_client, encrypt, caplog
):
    caplog.set_level(logging.DEBUG)
    name = engine_janitor.project("shop")
    shop(root, name, test_images.v1, encrypt)
    h = make_harness(tmp_path)
    try:
        watcher = Watcher(h.db, root)
        assert watcher.sync().recorded == [f"{name} v1"]
        first = run_pending(h, name)
        assert first.command.status is CommandStatus.DONE, first.error
        [container] = h.engine.observe(name).containers

        env = inside(docker_client, container.id, "env")
        assert "DB_PASSWORD=hunter2-db\n" in env
        assert "DSN=pg://app:hunter2-db@db\n" in env
        assert "AUTH=Bearer tok-api-77\n" in env
        assert "MODE=prod\n" in env
        assert (
            inside(docker_client, container.id, "cat", "/run/secrets/token") == "file-secret-55\n"
        )
        settings = inside(docker_client, container.id, "cat", "/etc/app/settings.yaml")
        assert "password: yaml-secret-66" in settings
        mounts = docker_client.api.inspect_container(container.id)["Mounts"]
        assert mounts == []  # copied in, never bind-mounted from a host file
        files_dir = tmp_path / "files"
        for path in files_dir.rglob("*") if files_dir.exists() else []:
            assert_no_plaintext(str(path), path.read_bytes())

        # Unchanged: no new version, and applying again makes zero mutating engine calls.
        assert watcher.sync().recorded == []
        h.engine.calls.reset()
        again = h.reconcile(name)
        assert again.command.status is CommandStatus.DONE, again.error
        assert h.engine.calls.mutating == 0, h.engine.calls.counts
        assert [c.id for c in h.engine.observe(name).containers] == [container.id]

        for command in h.db.commands.list(stack_id=name).items:
            for line in h.db.command_logs.list(command.command_id):
                assert_no_plaintext("a command log", f"{line.message} {line.data}")
        for event in h.db.events.list(stack_id=name, limit=200).items:
            assert_no_plaintext("an event", event.message)
        assert_no_plaintext("the worker's output", "\n".join(h.lines))
        assert_no_plaintext("the log records", "\n".join(r.getMessage() for r in caplog.records))
        db = ["--db", str(tmp_path / "stackctl.db")]
        for args in (["describe", name, *db], ["describe", name, "-o", "json", *db],
                     ["history", name, "-o", "json", *db], ["diff", str(root), *db],
                     ["validate", str(root)]):  # fmt: skip
            result = CliRunner().invoke(app, args)
            assert result.exit_code == 0, result.output
            assert_no_plaintext(f"stackctl {args[0]}", result.output)
        bodies = api_responses(tmp_path / "stackctl.db", name)
        for body in bodies:
            assert_no_plaintext("an API response", body)
        assert any("<sops:" in body and "prod" in body for body in bodies)  # the grep sees values
        version = h.db.stack_versions.require(name, "v1")
        assert "<sops:" in version.compose.model_dump_json()
        assert_database_holds_no_plaintext(tmp_path)  # the file and its WAL, while open
    finally:
        h.db.close()
    assert_database_holds_no_plaintext(tmp_path)


def assert_database_holds_no_plaintext(folder: Path) -> None:
    stored = {p.name: p.read_bytes() for p in folder.iterdir() if p.name.startswith("stackctl.db")}
    assert b"prod" in b"".join(stored.values())  # a plaintext value of the same stack is there
    for name, data in stored.items():
        assert_no_plaintext(name, data)


def test_without_the_key_the_last_good_version_keeps_running_and_the_key_back_applies(
    tmp_path, root, engine_janitor, test_images, docker_client, encrypt, age, no_age_key,
    monkeypatch,
):  # fmt: skip
    name = engine_janitor.project("shop")
    shop(root, name, test_images.v1, encrypt)
    h = make_harness(tmp_path)
    try:
        watcher = Watcher(h.db, root)
        assert watcher.sync().recorded == [f"{name} v1"]
        assert run_pending(h, name).command.status is CommandStatus.DONE
        [before] = h.engine.observe(name).containers

        # The same plaintext encrypted again (sops needs only the public key for that).
        encrypt(write(root / "shop/app.env", 'DB_PASSWORD=hunter2-db\nDSN="pg://app:${DB_PASSWORD}@db"\n'),
                "dotenv")  # fmt: skip
        no_age_key()
        report = watcher.sync()
        assert report.recorded == []
        invalid = [
            e for e in h.db.events.list(stack_id=name).items if e.reason == "ManifestInvalid"
        ]
        assert len(invalid) == 1
        assert "`shop/app.env` is SOPS-encrypted and cannot be decrypted: no age key: set" in (
            invalid[0].message
        )
        assert h.db.stacks.require(name).current_version == "v1"
        assert h.db.commands.list(stack_id=name).items[0].status is CommandStatus.DONE
        h.reconcile(name)
        [still] = h.engine.observe(name).containers
        assert (still.id, still.running) == (before.id, True)

        # The key is back: the unchanged files load again (the key is part of what a decrypting
        # load looked at), and the new ciphertext is a new version whose containers are new.
        monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(age.key_file))
        assert watcher.sync().recorded == [f"{name} v2"]
        applied = run_pending(h, name)
        assert applied.command.status is CommandStatus.DONE, applied.error
        assert applied.command.type is CommandType.APPLY_STACK_VERSION
        assert [s.reason for s in applied.plan.changes] == [
            "env_file; environment DB_PASSWORD, DSN changed"
        ]
        [after] = h.engine.observe(name).containers
        assert after.id != before.id
        assert "DB_PASSWORD=hunter2-db\n" in inside(docker_client, after.id, "env")
    finally:
        h.db.close()
