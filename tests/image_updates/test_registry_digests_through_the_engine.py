"""``RegistryDigests`` against a real registry: a tag's digest now, the local digests of an
image, and errors that say which reference and what to do next."""

from __future__ import annotations

import json
import re

import pytest

from controller.backends.shared.registry import RegistryDigests
from controller.models.errors import NotFoundError, PermanentError, TransientError


def test_the_remote_digest_is_the_pushed_one_and_follows_the_tag(app, test_images, docker_client):
    digests = RegistryDigests(docker_client)
    assert digests.remote_digest(app.tag) == app.old_digest
    _, new_digest = app.publish_new(test_images.v2)
    assert new_digest != app.old_digest
    assert digests.remote_digest(app.tag) == new_digest
    # The engine's own tag did not move: asking the registry pulls nothing.
    assert docker_client.api.inspect_image(app.tag)["Id"] == app.old


def test_local_digests_name_the_manifest_an_image_was_pushed_as(
    app, registry_images, test_images, docker_client
):
    digests = RegistryDigests(docker_client)
    assert f"{app.repo}@{app.old_digest}" in digests.local_digests(app.old)
    never_pushed = registry_images.make(test_images.v1, "local")
    assert digests.local_digests(never_pushed) == ()
    with pytest.raises(NotFoundError, match=r"sha256:0{64}"):
        digests.local_digests("sha256:" + "0" * 64)


def test_an_unknown_tag_is_permanent_and_names_the_reference(app, docker_client):
    ref = f"{app.repo}:no-such-tag"
    with pytest.raises(PermanentError, match=re.escape(ref)):
        RegistryDigests(docker_client).remote_digest(ref)


def test_an_unreachable_registry_is_transient(docker_client, free_port):
    ref = f"127.0.0.1:{free_port}/nothing/here:1"
    with pytest.raises(TransientError, match=re.escape(ref)):
        RegistryDigests(docker_client).remote_digest(ref)


def test_credentials_come_from_the_auth_file_at_each_use(tmp_path, docker_client, app):
    auth = tmp_path / "auth.json"
    digests = RegistryDigests(docker_client, auth_file=auth)
    with pytest.raises(PermanentError, match="does not exist"):
        digests.remote_digest(app.tag)
    host = app.repo.split("/", 1)[0]
    entry = {"auths": {host: {"auth": "dXNlcjpzZWNyZXQ="}}}  # user:secret
    auth.write_text(json.dumps(entry))
    assert digests._credentials(app.tag)["username"] == "user"
    assert digests._credentials("other.example:5000/x/y:1") is None
    # The registry asks for no login: the credentials are sent and the answer is the same.
    assert digests.remote_digest(app.tag) == app.old_digest
    auth.write_text(json.dumps({"auths": {}}))  # read again: nothing kept from before
    assert digests._credentials(app.tag) is None
