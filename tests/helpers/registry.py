"""A real image registry for the tests: Debian's ``docker-registry`` on 127.0.0.1.

``Registry`` starts ``docker-registry serve`` with its own config file and storage folder in a
temporary folder, on a port free at start, and is a context manager: on exit (tests passed or
failed) it kills its own process group by id and removes its folder. The engine pushes to and
pulls from it over plain HTTP without any daemon configuration: dockerd allows insecure
registries on 127.0.0.0/8.

``RegistryImages`` makes a test's own images (a one-label build on a local test image, so each
has its own id and digest) and pushes them under the test's prefix; the test's
``EngineJanitor`` removes every one of them by id at teardown (tags and digest references
together). What was pushed goes with the registry's storage folder at the end of the session.

A registry that cannot start is an error with the command that installs it, never a skip: the
tests that need one must fail in CI when it cannot run (``scripts/registry.sh``).
"""

from __future__ import annotations

import contextlib
import io
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.processes import stop_group

REGISTRY = Path("/usr/bin/docker-registry")
INSTALL_HINT = "run `bash scripts/registry.sh` as root (apt-get install docker-registry)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Registry:
    """``docker-registry serve`` on ``127.0.0.1:port``, storage and config under ``home``."""

    def __init__(self, tmp: Path, *, users: dict[str, str] | None = None) -> None:
        """``users`` (name -> password): the registry asks for a login (htpasswd, bcrypt)."""
        self.users = dict(users or {})
        self.home = Path(tempfile.mkdtemp(prefix="registry-", dir=tmp))
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.home / "registry.log"

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``: the domain part of the references that name this registry."""
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> Registry:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if not REGISTRY.exists():
            raise RuntimeError(f"{REGISTRY} is not installed: {INSTALL_HINT}")
        config = self.home / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {self.home / 'data'}\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.host}\n" + self._auth_section()
        )
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [str(REGISTRY), "serve", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.home,
                start_new_session=True,
            )
        self._wait_ready()

    def _auth_section(self) -> str:
        if not self.users:
            return ""
        with warnings.catch_warnings():  # crypt: deprecated, gone in 3.13; bcrypt is not here
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt

            lines = [
                f"{user}:{crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))}\n"
                for user, password in self.users.items()
            ]
        htpasswd = self.home / "htpasswd"
        htpasswd.write_text("".join(lines))
        return f"auth:\n  htpasswd:\n    realm: stackctl-test\n    path: {htpasswd}\n"

    def _wait_ready(self, timeout_s: float = 15.0) -> None:
        """Until ``GET /v2/`` answers 200 (the registry's API check)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"docker-registry exited at start: {self._log_tail()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.5) as sock,
            ):
                sock.sendall(f"GET /v2/ HTTP/1.0\r\nHost: {self.host}\r\n\r\n".encode())
                status = sock.recv(64).split(b"\r\n", 1)[0]
                if b" 200 " in status or (self.users and b" 401 " in status):
                    return
            time.sleep(0.05)
        raise RuntimeError(f"docker-registry did not answer on {self.host}: {self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc is not None:
            # Its own session (start_new_session): this reaches the registry and nothing else.
            stop_group(self.proc)
            self.proc = None
        shutil.rmtree(self.home, ignore_errors=True)


@dataclass
class RegistryImages:
    """A test's images in the registry, all named ``<registry>/<prefix>/...``.

    ``make(base, variant)`` builds a new local image from ``base`` (one ``LABEL``, so its id and
    its manifest's digest are the test's own: nothing shared with other tests is tagged,
    pushed or removed); ``push(image_id, "app:1")`` tags it ``<registry>/<prefix>/app:1`` and
    pushes it, returning the manifest digest. Every image made is registered with the test's
    ``EngineJanitor``, which force-removes it by id after the test's containers: all its tags
    and digest references go with it (the ones a pull added too)."""

    janitor: Any  # the test's EngineJanitor
    registry: Registry
    made: list[str] = field(default_factory=list)

    @property
    def client(self) -> Any:
        return self.janitor.client

    @property
    def prefix(self) -> str:
        return str(self.janitor.prefix)

    def repo(self, name: str) -> str:
        """``127.0.0.1:PORT/<prefix>/<name>`` (no tag)."""
        return f"{self.registry.host}/{self.prefix}/{name}"

    def make(self, base: str, variant: str) -> str:
        """A new image (its id) with ``base``'s content and a label naming this test."""
        dockerfile = (
            f"FROM {base}\nLABEL org.stackctl.test-registry={self.prefix}-{variant}\n"
        ).encode()
        image, _ = self.client.images.build(
            fileobj=io.BytesIO(dockerfile), pull=False, rm=True, forcerm=True
        )
        self.made.append(image.id)
        self.janitor.register(image.id, "image")
        return str(image.id)

    def push(self, image_id: str, name_tag: str, *, auth: dict[str, str] | None = None) -> str:
        """Tag ``image_id`` as ``repo(name):tag``, push it (logged in with ``auth``, never
        through ``docker login``: nothing is written to the host's config.json); the pushed
        manifest's digest."""
        name, _, tag = name_tag.partition(":")
        repository = self.repo(name)
        self.client.api.tag(image_id, repository, tag=tag or "latest")
        digest = None
        for line in self.client.api.push(
            repository, tag=tag or "latest", stream=True, decode=True, auth_config=auth
        ):
            if "error" in line:
                raise RuntimeError(f"push {repository}:{tag}: {line['error']}")
            digest = (line.get("aux") or {}).get("Digest") or digest
        if digest is None:
            raise RuntimeError(f"push {repository}:{tag}: no digest reported")
        return str(digest)

    def untag(self, ref: str) -> None:
        """Remove one local reference (a tag or ``repo@digest``); the image goes with its last
        reference (a tag's digest references go with the repository's last tag)."""
        import docker.errors

        with contextlib.suppress(docker.errors.NotFound):
            self.client.api.remove_image(ref, noprune=True)
