"""An ``ssh://`` engine, reached through a real sshd on 127.0.0.1 (``ssh_engine_server``) whose
``docker system dial-stdio`` talks to the machine's engine: a stack targeting it converges and
a re-apply changes nothing; a host key that known_hosts does not list, or lists differently,
refuses the connection with the engine, the host and the reason in the command's error, and
nothing is created nor written to known_hosts. A key the server does not authorize is a
refused login; a port nobody listens on is unreachable for now (retried)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.git_servers import make_key
from helpers.harness import Harness, make_harness

from controller.backends.docker import Engine
from controller.backends.engines import Engines
from controller.desired.engine_spec import EngineSpec
from controller.models import CommandStatus
from controller.models.errors import PermanentError, TransientError
from controller.sources.loader.engines_file import load_engines

pytestmark = [pytest.mark.engine, pytest.mark.slow]

SLEEPER = {"command": ["sleep", "3600"], "init": True}


def harness(
    tmp_path: Path, server: Any, *, known_hosts: str, hashed: bool = False, key: Path | None = None
) -> Harness:
    """A harness whose engine ``viassh`` is ``server``, declared in an engines file with
    ``known_hosts`` (its text; ``hashed``: names hashed by ``ssh-keygen -H``) and ``key`` (the
    server's authorized client key by default) beside it."""
    folder = tmp_path / "conf"
    folder.mkdir()
    (folder / "known_hosts").write_text(known_hosts)
    if hashed:
        subprocess.run(["ssh-keygen", "-H", "-f", str(folder / "known_hosts")], check=True,
                       capture_output=True)  # fmt: skip
        assert "127.0.0.1" not in (folder / "known_hosts").read_text()
    shutil.copy(key or server.client_key, folder / "id_ed25519")
    (folder / "engines.yaml").write_text(
        yaml.safe_dump(
            {
                "engines": {
                    "viassh": {
                        "host": f"ssh://{server.user}@127.0.0.1:{server.port}",
                        "ssh": {"known_hosts": "known_hosts", "identity": "id_ed25519"},
                    }
                }
            }
        )
    )
    engines = Engines(load_engines(folder / "engines.yaml"), local=Engine())
    return make_harness(tmp_path, engine=engines)


def running(client: Any, name: str) -> dict[str, str]:
    found = client.containers.list(
        all=True, filters={"label": f"com.docker.compose.project={name}"}, ignore_removed=True
    )
    return {c.name: c.status for c in found}


@pytest.mark.parametrize("hashed", [False, True], ids=["plain", "hashed"])
def test_a_stack_converges_through_ssh_and_a_reapply_changes_nothing(
    tmp_path: Path,
    ssh_engine_server: Any,
    docker_client: Any,
    engine_janitor: Any,
    test_images: Any,
    hashed: bool,
) -> None:
    line = ssh_engine_server.known_hosts_line + "\n"
    h = harness(tmp_path, ssh_engine_server, known_hosts=line, hashed=hashed)
    try:
        viassh = h.engine.get("viassh")  # type: ignore[attr-defined]
        viassh.ping()
        name = engine_janitor.project("viassh")
        desired = h.stack(
            name,
            {"services": {"app": {"image": test_images.v1, **SLEEPER}}},
            target={"engine": "viassh"},
        )
        first = h.apply(desired)
        assert first.command.status is CommandStatus.DONE, first.error
        assert running(docker_client, name) == {f"{name}-app-1": "running"}
        assert [c.name for c in viassh.observe(name).containers] == [f"{name}-app-1"]
        viassh.calls.reset()
        again = h.apply(desired)
        assert again.command.status is CommandStatus.DONE, again.error
        assert viassh.calls.mutating == 0, viassh.calls.counts
        assert sum(viassh.calls.counts.values()) > 0  # it did look, through ssh
    finally:
        h.db.close()


@pytest.mark.parametrize("case", ["unknown", "changed"])
def test_a_host_key_known_hosts_does_not_vouch_for_is_refused(
    tmp_path: Path,
    ssh_engine_server: Any,
    docker_client: Any,
    engine_janitor: Any,
    test_images: Any,
    case: str,
) -> None:
    hostport = f"[127.0.0.1]:{ssh_engine_server.port}"
    if case == "unknown":  # the file lists another host only
        other = make_key(tmp_path / "other_host")
        line = f"[127.0.0.1]:1 {' '.join(Path(f'{other}.pub').read_text().split()[:2])}\n"
    else:  # the same host:port with another ed25519 key
        other = make_key(tmp_path / "impostor")
        line = f"{hostport} {' '.join(Path(f'{other}.pub').read_text().split()[:2])}\n"
    h = harness(tmp_path, ssh_engine_server, known_hosts=line)
    try:
        name = engine_janitor.project("refused")
        desired = h.stack(
            name,
            {"services": {"app": {"image": test_images.v1, **SLEEPER}}},
            target={"engine": "viassh"},
        )
        outcome = h.apply(desired)
        assert outcome.command.status is CommandStatus.FAILED, outcome
        error = outcome.error or ""
        said = "host key unknown" if case == "unknown" else "host key changed"
        assert "engine viassh" in error and hostport in error and said in error, error
        assert "refusing to connect" in error and "SHA256:" in error, error
        assert running(docker_client, name) == {}  # nothing created
        assert (tmp_path / "conf" / "known_hosts").read_text() == line  # nothing trusted
        with pytest.raises(PermanentError, match=said):  # asked again: refused again
            h.engine.get("viassh").ping()  # type: ignore[attr-defined]
    finally:
        h.db.close()


def test_the_default_known_hosts_is_the_users_and_an_absent_one_trusts_nobody(
    tmp_path: Path, ssh_engine_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.ssh/known_hosts there
    spec = EngineSpec(name="viassh", host=f"ssh://root@127.0.0.1:{ssh_engine_server.port}")
    engines = Engines({"viassh": spec}, local=Engine())
    with pytest.raises(PermanentError) as caught:
        engines.get("viassh").ping()
    message = str(caught.value)
    assert "host key unknown" in message, message
    assert str(tmp_path / "home" / ".ssh" / "known_hosts") in message, message


def test_a_key_the_server_does_not_authorize_is_a_refused_login(
    tmp_path: Path, ssh_engine_server: Any
) -> None:
    stranger = make_key(tmp_path / "stranger")
    h = harness(
        tmp_path, ssh_engine_server, known_hosts=ssh_engine_server.known_hosts_line, key=stranger
    )
    try:
        with pytest.raises(PermanentError, match=r"engine viassh .*SSH login refused for"):
            h.engine.get("viassh").ping()  # type: ignore[attr-defined]
    finally:
        h.db.close()


def test_a_host_that_does_not_answer_is_unreachable_for_now(free_port: int) -> None:
    spec = EngineSpec(name="viassh", host=f"ssh://root@127.0.0.1:{free_port}")  # nobody there
    with pytest.raises(TransientError, match=r"engine viassh .*SSH connection failed"):
        Engines({"viassh": spec}, local=Engine()).get("viassh").ping()
