"""examples/deploy: the systemd unit passes ``systemd-analyze verify``, and the container image
recipe builds (base made locally with debootstrap, no registry) and the controller in it
converges a stack on the host's engine, then stops cleanly on SIGTERM.

The base image (stackctl-deploy/debian-python:bookworm) is made once, by the first run that
can (root, debootstrap, a Debian mirror: about 2 minutes), and kept like the test images; the
image built from it is this test's and removed with its container and stack.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

DEPLOY = Path(__file__).parents[2] / "examples" / "deploy"
BASE_IMAGE = "stackctl-deploy/debian-python:bookworm"


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    unit = (DEPLOY / "stackctl.service").read_text()
    assert "\nExecStart=/opt/stackctl/bin/stackctl run\n" in unit
    # verify checks that ExecStart exists: point it at this checkout's stackctl.
    stackctl = Path(sys.executable).with_name("stackctl")
    (tmp_path / "stackctl.service").write_text(
        unit.replace("/opt/stackctl/bin/stackctl", str(stackctl))
    )
    done = subprocess.run(
        [analyze, "verify", str(tmp_path / "stackctl.service")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    problems = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if "stackctl.service" in line or line.startswith("Unknown")
    ]
    assert (done.returncode, problems) == (0, [])


def engine_socket() -> str:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        pytest.skip(f"the controller's container needs the engine's socket, not {host}")
    return host.removeprefix("unix://")


def another_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=2) as answer:
        return answer.read().decode()


@pytest.mark.slow
def test_the_image_runs_the_controller(
    docker_client, test_images, engine_janitor, free_port, tmp_path: Path
) -> None:
    import docker.errors

    try:
        docker_client.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        if os.geteuid() != 0 or shutil.which("debootstrap") is None:
            pytest.skip(
                f"{BASE_IMAGE} is missing and cannot be made here (needs root and debootstrap:"
                " apt-get install debootstrap)"
            )
    engine = engine_socket()
    image = f"{engine_janitor.project('controller')}:test"
    engine_janitor.register(image, "image")
    built = subprocess.run(
        ["bash", str(DEPLOY / "build-image.sh")],
        env={**os.environ, "IMAGE": image, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]

    stack = engine_janitor.project("web")
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / f"{stack}.yaml").write_text(
        f"""\
services:
  web:
    image: {test_images.v1}
    pull_policy: never
    init: true
    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
    ports: ["127.0.0.1:{free_port}:8080"]
"""
    )
    api_port = another_free_port()
    controller = engine_janitor.register(
        docker_client.containers.run(
            image,
            name=engine_janitor.project("controller"),
            detach=True,
            network_mode="host",
            volumes={
                engine: {"bind": "/var/run/docker.sock", "mode": "rw"},
                str(manifests): {"bind": str(manifests), "mode": "ro"},
            },
            environment={
                "STACKCTL_MANIFESTS": str(manifests),
                "STACKCTL_API": f"127.0.0.1:{api_port}",
            },
        )
    )
    page = ""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and "stackctl test image 1" not in page:
        try:
            page = get(f"http://127.0.0.1:{free_port}/")
        except OSError:
            time.sleep(0.5)
    controller.reload()
    logs = controller.logs().decode(errors="replace")[-3000:]
    assert "stackctl test image 1" in page, f"{controller.status}: {logs}"
    assert '"status"' in get(f"http://127.0.0.1:{api_port}/healthz"), logs
    # The console's templates and static files were installed with the package.
    assert "<h1>Stacks</h1>" in get(f"http://127.0.0.1:{api_port}/"), logs
    assert "htmx" in get(f"http://127.0.0.1:{api_port}/ui/static/htmx.min.js"), logs

    controller.stop(timeout=60)
    assert controller.wait(timeout=10)["StatusCode"] == 0, controller.logs().decode()[-3000:]
