"""``RegistryDigests``: what a registry says a tag is now, and what digests a local image has.

Both go through the engine, as ``docker pull`` does: ``GET /distribution/<ref>/json`` makes the
engine ask the registry for the tag's manifest (its digest, without pulling anything), and an
image's ``RepoDigests`` are the manifest digests it was pulled as or pushed as, per repository.

Credentials: by default docker-py sends the engine what the Docker CLI would (``config.json``
in ``$DOCKER_CONFIG`` or ``~/.docker``, credential helpers included). ``auth_file`` names
another file in that format, read at every use (never kept in memory beyond the call, never
written anywhere); ``auth_config`` gives the credentials themselves (``{"username": ...,
"password": ...}``) for callers that hold them. Docker-py's errors become the project's, with
the reference in the message: a registry that cannot be reached is transient, an unknown tag
or a refused login permanent.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import docker
import docker.auth

from controller.backends.shared.connection import LazyClient
from controller.backends.shared.translate import translate
from controller.models.errors import PermanentError

_AUTH_HINTS = ("no basic auth credentials", "unauthorized", "authentication required", "denied")


class RegistryDigests:
    def __init__(
        self,
        client: docker.DockerClient | None = None,
        *,
        auth_file: Path | None = None,
        auth_config: Mapping[str, str] | None = None,
        timeout: int = 60,
    ) -> None:
        """Connects on first use, like ``Engine``: a controller started while the engine is
        down keeps running and asks again at the next check."""
        self._client = LazyClient(client, timeout=timeout)
        self._auth_file = auth_file
        self._auth_config = dict(auth_config) if auth_config else None

    @property
    def _docker(self) -> docker.DockerClient:
        return self._client.get()

    def remote_digest(self, ref: str) -> str:
        """The digest of the manifest ``ref`` (``repo:tag``) names in its registry now
        (``sha256:...``); for a multi-platform image, the index's digest, as a pull records it
        in ``RepoDigests``."""
        doing = f"asking the registry for {ref}"
        try:
            data = self._docker.images.get_registry_data(ref, auth_config=self._credentials(ref))
        except docker.errors.APIError as e:
            # The engine answers 500 for a login the registry refused or never got: asking
            # again with the same credentials cannot help.
            if any(hint in str(e.explanation).lower() for hint in _AUTH_HINTS):
                raise PermanentError(
                    f"{doing}: the registry refused the login: {e.explanation}"
                ) from e
            raise translate(e, doing=doing) from e
        except Exception as e:
            raise translate(e, doing=doing) from e
        digest = data.id
        if not isinstance(digest, str) or not digest.startswith("sha256:"):
            raise PermanentError(f"{doing}: the engine gave no manifest digest ({digest!r})")
        return digest

    def local_digests(self, image: str) -> tuple[str, ...]:
        """The ``RepoDigests`` of a local image (an id or a reference): ``repo@sha256:...``,
        each naming a manifest it was pulled or pushed as. Empty for an image that never met a
        registry (built or imported here); ``NotFoundError`` when there is no such image."""
        doing = f"inspecting image {image}"
        try:
            info = self._docker.api.inspect_image(image)
        except Exception as e:
            raise translate(e, doing=doing) from e
        return tuple(info.get("RepoDigests") or ())

    def _credentials(self, ref: str) -> dict[str, Any] | None:
        """What to send the engine for ``ref``'s registry: the explicit credentials, the entry
        of ``auth_file`` (read now), or None (docker-py then reads ``config.json`` itself)."""
        if self._auth_config is not None:
            return dict(self._auth_config)
        if self._auth_file is None:
            return None
        if not self._auth_file.is_file():  # docker-py would read it as "no credentials"
            raise PermanentError(f"registry credentials file {self._auth_file} does not exist")
        try:
            registry, _ = docker.auth.resolve_repository_name(ref)
            config = docker.auth.load_config(str(self._auth_file))
        except Exception as e:
            raise PermanentError(f"reading registry credentials {self._auth_file}: {e}") from e
        found = config.resolve_authconfig(registry)
        return dict(found) if found else None
