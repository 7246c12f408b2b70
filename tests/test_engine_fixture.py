"""The engine test fixtures work: images, janitor, port publishing, DNS between containers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parents[1]
HTTPD = ["httpd", "-f", "-p", "8080", "-h", "/www"]


def http_get(url: str, timeout: float = 10.0) -> str:
    """GET ``url`` (127.0.0.1 only), retrying until the server answers or ``timeout`` passes."""
    assert url.startswith("http://127.0.0.1:"), url
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_images_exist_and_differ(docker_client, test_images):
    one = docker_client.images.get(test_images.v1)
    two = docker_client.images.get(test_images.v2)
    assert one.id != two.id
    outputs = {
        tag: docker_client.containers.run(tag, ["cat", test_images.version_file], remove=True)
        .decode()
        .strip()
        for tag in test_images.all
    }
    assert outputs == {test_images.v1: "1", test_images.v2: "2"}


def test_janitor_removes_labelled_named_and_registered_objects(
    docker_client, test_images, engine_janitor, engine_janitor_factory
):
    # a janitor inside this test's own prefix: if it fails, the fixture still cleans up
    janitor = engine_janitor_factory(engine_janitor.prefix + "-inner")
    project = janitor.project("app")
    network = docker_client.networks.create(f"{project}_default", labels=janitor.labels("app"))
    volume = docker_client.volumes.create(f"{project}_data", labels=janitor.labels("app"))
    labelled = docker_client.containers.run(
        test_images.v1,
        ["sleep", "300"],
        detach=True,
        init=True,
        name=f"{project}-web-1",
        labels=janitor.labels("app"),
        network=network.name,
        volumes={volume.name: {"bind": "/data", "mode": "rw"}},
    )
    # no label, name outside the prefix: found only because it is registered
    stray = janitor.register(docker_client.containers.create(test_images.v1, ["true"]))
    # no label but a name inside the prefix
    docker_client.networks.create(f"{janitor.prefix}-unlabelled")

    found = janitor.leftovers()
    assert found["containers"] == [labelled.name]
    assert sorted(found["networks"]) == sorted([network.name, f"{janitor.prefix}-unlabelled"])
    assert found["volumes"] == [volume.name]

    assert janitor.cleanup() == []
    assert janitor.leftovers() == {"containers": [], "networks": [], "volumes": []}
    existing = {c.id for c in docker_client.containers.list(all=True, ignore_removed=True)}
    assert labelled.id not in existing and stray.id not in existing


def test_janitor_fixture_cleans_up_after_a_failing_test(engine_janitor_factory, tmp_path):
    """Run a failing test in a child pytest; nothing it created may survive its teardown."""
    prefix_file = tmp_path / "prefix"
    test_file = tmp_path / "test_child.py"
    test_file.write_text(
        textwrap.dedent(f"""
        from pathlib import Path

        def test_creates_then_fails(docker_client, test_images, engine_janitor):
            Path({str(prefix_file)!r}).write_text(engine_janitor.prefix)
            docker_client.containers.run(
                test_images.v1, ["sleep", "300"], detach=True,
                labels=engine_janitor.labels("child"))
            docker_client.networks.create(engine_janitor.project("child") + "_default",
                                          labels=engine_janitor.labels("child"))
            raise AssertionError("boom")
    """)
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "tests"), "STACKCTL_REQUIRE_DOCKER": "1"}
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "conftest",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(test_file),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 1, child.stdout + child.stderr
    # the test failed, and its teardown (the janitor) raised no error
    assert child.stdout.strip().splitlines()[-1].startswith("1 failed in"), child.stdout
    prefix = prefix_file.read_text()
    assert prefix.startswith("t") and len(prefix) == 9
    child_janitor = engine_janitor_factory(prefix)
    try:
        assert child_janitor.leftovers() == {"containers": [], "networks": [], "volumes": []}
    finally:
        child_janitor.cleanup()


def test_httpd_published_on_loopback_answers(docker_client, test_images, engine_janitor, free_port):
    container = docker_client.containers.run(
        test_images.v2,
        HTTPD,
        detach=True,
        name=engine_janitor.project("web") + "-web-1",
        labels=engine_janitor.labels("web"),
        ports={"8080/tcp": ("127.0.0.1", free_port)},
    )
    assert "stackctl test image 2" in http_get(f"http://127.0.0.1:{free_port}/")
    # what a HEALTHCHECK would run, through docker exec
    code, out = container.exec_run(["wget", "-q", "-O-", "http://127.0.0.1:8080/"])
    assert (code, b"stackctl test image 2" in out) == (0, True)


def test_containers_reach_each_other_by_name_on_a_user_network(
    docker_client, test_images, engine_janitor
):
    api = docker_client.api
    labels = engine_janitor.labels()
    network = docker_client.networks.create(f"{engine_janitor.prefix}_default", labels=labels)
    # the server joins with the alias "web", as Compose does for a service on its networks
    server = api.create_container(
        test_images.v1,
        HTTPD,
        name=f"{engine_janitor.prefix}-web-1",
        labels=labels,
        host_config=api.create_host_config(network_mode=network.name),
        networking_config=api.create_networking_config(
            {network.name: api.create_endpoint_config(aliases=["web"])}
        ),
    )
    api.start(server["Id"])
    fetch = "for i in $(seq 100); do wget -q -O- http://$0:8080/ && exit 0; sleep 0.1; done; exit 1"
    for host in ("web", f"{engine_janitor.prefix}-web-1"):
        client = docker_client.containers.run(
            test_images.v2,
            ["sh", "-c", fetch, host],
            detach=True,
            labels=labels,
            network=network.name,
        )
        assert client.wait(timeout=60)["StatusCode"] == 0, client.logs().decode()
        assert "stackctl test image 1" in client.logs().decode()
