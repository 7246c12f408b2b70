"""DNS rebinding: a page on any site, through a name it re-points at 127.0.0.1, sends requests
with its own name in ``Host``. Without a token the reads are open, and such a page read
``DB_PASSWORD`` from ``/api/v1/stacks/X/versions/1``. The controller answers only the names it
is served as (the bound address, ``localhost``, loopback addresses, the host of
``--public-url``, ``--allowed-host``); any other ``Host`` is 400, on the API and the console.

Over real HTTP: an app served by uvicorn, and a real ``stackctl run``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers.controller_process import ControllerProcess, wait_for
from helpers.seeding import Seeded, write_manifest

from controller.web.api import create_app, start_server
from controller.web.api.hosts import HostPolicy

REBINDING = "rebind.attacker.example"


def get(url: str, path: str, host: str | None) -> httpx.Response:
    """``GET url+path`` with ``Host: host`` (the connection still goes to ``url``)."""
    headers = {} if host is None else {"Host": host}
    with httpx.Client(base_url=url, timeout=10) as http:
        return http.get(path, headers=headers)


@pytest.fixture
def served(db_path: Path, seeded: Seeded) -> Iterator[Any]:
    """``served(hosts, bind)``: the app on ``bind``:free port, answering ``hosts``."""
    servers = []

    def serve(hosts: HostPolicy, bind: str = "127.0.0.1") -> Any:
        server = start_server(create_app(db_path=db_path, hosts=hosts), host=bind, port=0)
        servers.append(server)
        return server

    yield serve
    for server in servers:
        server.stop()


def test_a_rebinding_name_is_400_and_the_served_names_are_answered(served: Any) -> None:
    policy = HostPolicy.served_as(
        bind="127.0.0.1",
        public_url="https://stackctl.example.com:8443/console",
        allowed=("ops.internal", "*.lab.example"),
    )
    server = served(policy)
    url, port = f"http://127.0.0.1:{server.port}", server.port
    for path in ("/api/v1/stacks/shop/versions/1", "/", "/stacks/shop", "/metrics", "/docs"):
        refused = get(url, path, f"{REBINDING}:{port}")
        assert refused.status_code == 400, (path, refused.status_code, refused.text)
        assert REBINDING in refused.json()["message"]
        assert "--allowed-host" in refused.json()["message"]
    for host in (
        f"127.0.0.1:{port}",
        "127.0.0.1",
        f"localhost:{port}",
        "LOCALHOST",
        f"[::1]:{port}",
        "stackctl.example.com",
        "stackctl.example.com:8443",
        f"ops.internal:{port}",
        "a.lab.example",
    ):
        answer = get(url, "/api/v1/stacks/shop/versions/1", host)
        assert answer.status_code == 200, (host, answer.status_code, answer.text)
    for host in (
        "10.0.0.5",  # bound to 127.0.0.1: no other address reaches it
        "[fe80::1]:8420",
        "localhost.attacker.example",
        "127.0.0.1.nip.io",
        "ops.internal.attacker.example",
        "lab.example",
        "stackctl.example.com@attacker.example",
        "",
    ):
        assert get(url, "/api/v1/stacks", host).status_code == 400, host


def test_bound_to_every_interface_any_address_is_answered_but_no_other_name(
    served: Any,
) -> None:
    """The machine's addresses are many and change; an address is never a rebinding name (the
    page's origin would be that address), so every IP literal is answered: names must be
    listed."""
    server = served(HostPolicy.served_as(bind="0.0.0.0"), bind="0.0.0.0")
    url = f"http://127.0.0.1:{server.port}"
    for host in ("10.0.0.5:8420", "192.168.1.20", "[fe80::1]:8420", "localhost"):
        assert get(url, "/api/v1/stacks", host).status_code == 200, host
    assert get(url, "/api/v1/stacks", f"{REBINDING}:8420").status_code == 400


def test_an_allowed_star_answers_every_name(served: Any) -> None:
    server = served(HostPolicy.served_as(bind="127.0.0.1", allowed=("*",)))
    url = f"http://127.0.0.1:{server.port}"
    assert get(url, "/api/v1/stacks", REBINDING).status_code == 200


def test_stackctl_run_refuses_a_rebinding_name_and_answers_the_names_it_is_given(
    root: Path,
    tmp_path: Path,
    free_port: int,
    engine_janitor: Any,
    test_images: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STACKCTL_API_TOKEN", raising=False)  # reads open: the attack's case
    monkeypatch.setenv("STACKCTL_ALLOWED_HOSTS", "from-env.internal")
    name = engine_janitor.project("rebind")
    service = {"image": test_images.v1, "command": ["sleep", "3600"], "init": True}
    write_manifest(root, name, {"db": {**service, "environment": {"DB_PASSWORD": "hunter2"}}})
    process = ControllerProcess(
        root,
        tmp_path / "stackctl.db",
        extra=(
            "--api",
            f"127.0.0.1:{free_port}",
            "--public-url",
            "https://stackctl.example.com/",
            "--allowed-host",
            "ops.internal",
            "--allowed-host",
            "ops2.internal",
        ),
    ).start()
    try:
        url, path = f"http://127.0.0.1:{free_port}", f"/api/v1/stacks/{name}/versions/1"
        wait_for(lambda: get(url, path, None).status_code == 200, what="version 1")
        attack = get(url, path, f"{REBINDING}:{free_port}")
        assert attack.status_code == 400, attack.text
        assert "hunter2" not in attack.text
        for host in (
            f"127.0.0.1:{free_port}",
            f"localhost:{free_port}",
            "stackctl.example.com",
            f"ops.internal:{free_port}",
            "ops2.internal",
        ):
            answer = get(url, path, host)
            assert answer.status_code == 200, (host, answer.text)
        # The flags replace the environment's list, as every flag does.
        assert get(url, path, "from-env.internal").status_code == 400
    finally:
        process.stop()


@pytest.mark.parametrize("bad", ["https://ops.internal", "ops.internal:8420", "a*b", "*."])
def test_an_allowed_host_that_can_never_match_is_a_usage_error(
    root: Path, tmp_path: Path, bad: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "controller", "run", "--manifests", str(root),
         "--db", str(tmp_path / "stackctl.db"), "--allowed-host", bad],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "--allowed-host" in result.stderr and "not a host name" in result.stderr
