"""The second engine of ``tls_engine`` answers over TLS with the test images, refuses a client
without the client certificate, is not confused by REQUESTS_CA_BUNDLE, and leaves the main
engine (and the host's docker0) alone."""

from __future__ import annotations

import ipaddress
import secrets
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.engine

LABEL = "stackctl-test.tls-engine-fixture"


def test_tls_engine_fixture_answers(tls_engine, test_images, docker_client, monkeypatch):
    assert tls_engine.host.startswith("tcp://127.0.0.1:")
    for path in (tls_engine.ca, tls_engine.cert, tls_engine.key):
        assert Path(path).is_file()

    client = tls_engine.client()
    local = tls_engine.local_client()
    try:
        # The test images were copied into it.
        tags = {tag for image in client.images.list() for tag in image.tags}
        assert set(test_images.all) <= tags

        # A container runs there (and only there).
        name = "tlsfix-" + secrets.token_hex(4)
        container = client.containers.run(
            test_images.v1, ["sleep", "30"], name=name, detach=True, labels={LABEL: name}
        )
        try:
            deadline = time.monotonic() + 20
            while container.status != "running" and time.monotonic() < deadline:
                time.sleep(0.1)
                container.reload()
            assert container.status == "running"
            seen = local.containers.list(filters={"label": f"{LABEL}={name}"})
            assert [c.id for c in seen] == [container.id]
            assert not docker_client.containers.list(all=True, filters={"id": container.id})
            address = container.attrs["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
            assert ipaddress.ip_address(address) in ipaddress.ip_network(tls_engine.subnet)
        finally:
            container.remove(force=True)

        # Without the client certificate: refused.
        import docker.errors
        import requests

        refused = (requests.exceptions.RequestException, docker.errors.DockerException)
        with pytest.raises(refused):
            tls_engine.client(client_cert=False, timeout=10)  # asks for the API version
        anonymous = tls_engine.client(client_cert=False, timeout=10, version=client.api.api_version)
        try:
            with pytest.raises(refused):
                anonymous.ping()
        finally:
            anonymous.close()

        # A CA bundle in the environment that does not hold our CA does not break client().
        other_ca = tls_engine.root / "other-ca.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", str(tls_engine.root / "other-ca-key.pem"), "-out",
             str(other_ca), "-days", "1", "-subj", "/CN=some other CA"],
            check=True, capture_output=True,
        )  # fmt: skip
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other_ca))
        monkeypatch.setenv("CURL_CA_BUNDLE", str(other_ca))
        with_env = tls_engine.client(timeout=10)
        try:
            assert with_env.ping()
            assert test_images.v1 in {t for i in with_env.images.list() for t in i.tags}
        finally:
            with_env.close()
    finally:
        client.close()
        local.close()

    # The main engine and its docker0 are untouched.
    subprocess.run(["ip", "link", "show", "docker0"], check=True, capture_output=True)
    assert Path("/sys/class/net/docker0/ifindex").read_text().strip() == str(
        tls_engine.docker0_ifindex_before
    )
    assert docker_client.info()["ID"]
