"""Registry credentials against a registry that asks for a login (htpasswd): none is refused
for good, naming the reference; an auth file in config.json's format (read at each use) or
credentials given directly are accepted. Nothing is written to the host's config.json."""

from __future__ import annotations

import base64
import json
import re

import pytest
from helpers.registry import Registry, RegistryImages

from controller.backends.shared.registry import RegistryDigests
from controller.models.errors import PermanentError

LOGIN = {"username": "ci", "password": "s3cret-pw"}


def test_the_auth_file_or_given_credentials_open_a_private_registry(
    tmp_path, engine_janitor, test_images, docker_client
):
    with Registry(tmp_path, users={LOGIN["username"]: LOGIN["password"]}) as private:
        images = RegistryImages(janitor=engine_janitor, registry=private)
        digest = images.push(images.make(test_images.v1, "private"), "app:1", auth=LOGIN)
        ref = f"{images.repo('app')}:1"

        wrong = RegistryDigests(docker_client, auth_config={"username": "ci", "password": "no"})
        with pytest.raises(PermanentError, match=re.escape(ref)):
            wrong.remote_digest(ref)
        assert RegistryDigests(docker_client, auth_config=LOGIN).remote_digest(ref) == digest

        auth_file = tmp_path / "registry-auth.json"
        token = base64.b64encode(f"{LOGIN['username']}:{LOGIN['password']}".encode()).decode()
        auth_file.write_text(json.dumps({"auths": {private.host: {"auth": token}}}))
        from_file = RegistryDigests(docker_client, auth_file=auth_file)
        assert from_file.remote_digest(ref) == digest
        auth_file.write_text(json.dumps({"auths": {}}))  # read at each use, not kept
        with pytest.raises(PermanentError, match=re.escape(ref)):
            from_file.remote_digest(ref)
