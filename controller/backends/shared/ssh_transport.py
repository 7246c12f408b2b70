"""``VerifiedSshAdapter``: docker-py's SSH transport (paramiko) for an ``ssh://`` engine, with
the host key checked against the engine's known_hosts file and nothing else read.

It must never trust a host key it was not given: an unknown key (the host is not in the file,
or only with another key type) and a changed key (the file has another key for that host) are
both a ``PermanentError`` naming the engine, the host, the file and the key offered; nothing is
written to known_hosts. Login, and every reconnect after the SSH connection dropped, checks the
key again. Every HTTP connection is a channel of that one SSH connection running ``docker
system dial-stdio`` (docker-py's ``SSHConnectionPool``), at most ``CHANNELS`` at once.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paramiko
from docker.transport.sshconn import SSHConnectionPool, SSHHTTPAdapter

from controller.desired.engine_spec import EngineSpec
from controller.models.errors import PermanentError, StackctlError, TransientError

SSH_PORT = 22
# Channels open at once on the one SSH connection (each HTTP connection is one, running
# `docker system dial-stdio`): below OpenSSH's default MaxSessions of 10, so that a channel
# is never refused.
CHANNELS = 8
_POOL = "ssh"


def known_hosts_of(spec: EngineSpec) -> Path:
    """The file that must list ``spec``'s host key (default ``~/.ssh/known_hosts``)."""
    if spec.ssh is not None and spec.ssh.known_hosts is not None:
        return spec.ssh.known_hosts
    return Path.home() / ".ssh" / "known_hosts"


class UnknownHostKeyError(paramiko.SSHException):
    """The server offered a key that known_hosts does not list for it (paramiko's
    ``RejectPolicy`` says the same, but only in a message)."""

    def __init__(self, hostname: str, key: paramiko.PKey) -> None:
        super().__init__(f"{hostname} not found in known_hosts")
        self.hostname = hostname
        self.key = key


class _Reject(paramiko.MissingHostKeyPolicy):
    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey):
        raise UnknownHostKeyError(hostname, key)


class VerifiedSshAdapter(SSHHTTPAdapter):
    """docker-py's paramiko adapter, logged in with the engine's own files, not ``~/.ssh/config``.

    docker-py's ``_create_paramiko_client`` loads ``~/.ssh/known_hosts`` and ``~/.ssh/config``;
    this one replaces it (the engines file is the whole configuration) and its ``_connect``,
    so that a refusal leaves as the project's error. Connecting happens in the constructor.
    """

    def __init__(self, spec: EngineSpec, *, timeout: int) -> None:
        assert spec.host is not None and spec.host.startswith("ssh://")
        self._spec = spec
        self._connect_timeout = timeout
        self._known_hosts = known_hosts_of(spec)
        self._reconnecting = threading.Lock()
        super().__init__(spec.host, timeout=timeout, shell_out=False)

    def _create_paramiko_client(self, base_url: str) -> None:
        url = urlsplit(base_url)
        client = paramiko.SSHClient()
        # The "system" set: checked, never saved (the client's own set is what save_host_keys
        # writes). A missing file is an empty one: every host is then unknown.
        if self._known_hosts.is_file():
            client.load_system_host_keys(str(self._known_hosts))
        client.set_missing_host_key_policy(_Reject())
        self.ssh_client = client
        identity = self._spec.ssh.identity if self._spec.ssh else None
        self.ssh_params = {
            "hostname": url.hostname,
            "port": url.port or SSH_PORT,
            "username": url.username,
            "timeout": self._connect_timeout,
            "banner_timeout": self._connect_timeout,
            "auth_timeout": self._connect_timeout,
            # With an identity, that key only: no agent, no guessing in ~/.ssh.
            **(
                {"key_filename": str(identity), "look_for_keys": False, "allow_agent": False}
                if identity
                else {}
            ),
        }

    def _connect(self) -> None:
        try:
            self.ssh_client.connect(**self.ssh_params)
        except (paramiko.SSHException, OSError, EOFError) as e:
            self.ssh_client.close()
            raise ssh_error(e, spec=self._spec, known_hosts=self._known_hosts) from e

    def get_connection(self, url: str, proxies: object = None) -> Any:
        """One pool of at most ``CHANNELS`` channels for every request, waiting for a free one.

        docker-py keys its pools by the whole URL (path and query), so each new path opens a
        channel that an idle pool keeps; past sshd's ``MaxSessions`` (default 10 a connection)
        the next one fails with ``ChannelException(2, 'Connect failed')``."""
        with self._reconnecting:
            # docker-py reconnects only once the client is closed; a transport that died
            # (sshd restarted, the network dropped) would otherwise fail every later request.
            transport = self.ssh_client.get_transport()
            if transport is None or not transport.is_active():
                self.pools.clear()  # their channels belong to the dead transport
                self.ssh_client.close()
                self._connect()
            pool = self.pools.get(_POOL)
            if pool is None:
                pool = SSHConnectionPool(
                    ssh_client=self.ssh_client,
                    timeout=self.timeout,
                    maxsize=CHANNELS,
                    host=self.ssh_host,
                )
                pool.block = True  # a request past CHANNELS waits for one to be returned
                self.pools[_POOL] = pool
            return pool


def ssh_error(error: BaseException, *, spec: EngineSpec, known_hosts: Path) -> StackctlError:
    """The project's error for a failure to reach ``spec`` over SSH."""
    where = f"engine {spec.name} ({spec.host})"
    url = urlsplit(spec.host or "")
    port = url.port or SSH_PORT
    # As known_hosts names it (paramiko's BadHostKeyException gives the bare host name).
    listed = url.hostname if port == SSH_PORT else f"[{url.hostname}]:{port}"
    match error:
        case UnknownHostKeyError():
            return PermanentError(
                f"{where}: host key unknown: {listed} offered {_key(error.key)}, which"
                f" {known_hosts} does not list for it; refusing to connect (check the key's"
                " fingerprint with the host's owner, then add its line to that file)"
            )
        case paramiko.BadHostKeyException():
            return PermanentError(
                f"{where}: host key changed: {listed} offered {_key(error.key)}, but"
                f" {known_hosts} lists {_key(error.expected_key)} for it; refusing to connect"
                " (another machine answers at that address, or the host was reinstalled)"
            )
        case paramiko.AuthenticationException():
            user = url.username or "the current user"
            return PermanentError(f"{where}: SSH login refused for {user}: {error}")
        case _:  # refused, timed out, dropped: the host may answer later
            return TransientError(
                f"{where}: SSH connection failed: {error or type(error).__name__}"
            )


def _key(key: paramiko.PKey) -> str:
    return f"{key.get_name()} {key.fingerprint}"  # ssh-ed25519 SHA256:..., as ssh-keygen -l
