"""Running the ``git`` CLI for the fetcher: hardened, bounded in time, credentials off the
command line, and failures translated into ``controller.sources.git.failures``.

Every call gets a clean environment: the caller's ``GIT_*`` variables are dropped (a stray
``GIT_DIR`` or ``GIT_CONFIG_PARAMETERS`` would redirect us), system and global git config are
not read, nothing may prompt, messages are in English so they can be classified. git runs in
its own session and the whole process group (git, ssh, remote helpers) is killed at the
deadline and after each call, so nothing outlives it.

It must never put a credential in ``argv`` (every user sees it in ``ps``), never return or
raise text that has not been through the caller's redactor, and never let git run a hook, a
filter, fsmonitor, a pager or a credential helper.
"""

from __future__ import annotations

import base64
import contextlib
import math
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from controller.desired.repository_spec import (
    RepositorySpec,
    transport_of,
    url_credentials,
    url_without_userinfo,
)
from controller.sources.git.failures import FetchAuthError, FetchCancelled, FetchError, FetchTimeout

# Each of these closes a way for the repository or the machine's config to run code or wait.
# The protocol list refuses `ext::` and any remote helper even if a URL got past the spec.
HARDENING = (
    "--no-pager",
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.fsmonitor=false",
    "-c", "credential.helper=",
    "-c", "protocol.allow=never",
    "-c", "protocol.https.allow=always",
    "-c", "protocol.http.allow=always",
    "-c", "protocol.ssh.allow=always",
    "-c", "protocol.git.allow=always",
    "-c", "protocol.file.allow=always",
    # Auto-maintenance after a fetch would otherwise detach and outlive our process group.
    "-c", "gc.autoDetach=false",
    "-c", "maintenance.autoDetach=false",
)  # fmt: skip

# The auth kind: wrong or missing credential, unknown or changed host key (lower case).
_AUTH_MARKERS = (
    "host key verification failed",
    "host key for",
    "remote host identification has changed",
    "permission denied",
    "authentication failed",
    "could not read username",
    "could not read password",
    "terminal prompts disabled",
    "returned error: 401",
    "returned error: 403",
    "load key",
    "no such identity",
)

# A transport that gave up waiting by itself (ssh's ConnectTimeout, a TCP connect) is a
# timeout too, whether it or our deadline came first.
_TIMEOUT_MARKERS = ("timed out", "connection timeout")

# git's advice after any failure to reach a remote: true of every cause, so it says nothing.
_TICK = 0.25  # seconds between looks at the cancel event while git runs
_BOILERPLATE = frozenset(
    {"Please make sure you have the correct access rights", "and the repository exists."}
)

# The stderr lines kept in an error message: enough to act on, short enough for a status line.
_STDERR_LINES = 6


@dataclass(frozen=True)
class GitOutput:
    """What a finished git call left: its exit code, stdout (bytes) and redacted stderr."""

    returncode: int
    stdout: bytes
    stderr: str


def git_env(spec: RepositorySpec, *, timeout_s: float, header: str | None) -> dict[str, str]:
    """The environment of every git call of one fetch of ``spec``; ``header`` is the
    ``authorization_header`` read for this fetch (None: no credential to send)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        LC_ALL="C",
        LANGUAGE="",
        GIT_TERMINAL_PROMPT="0",
        GIT_PAGER="cat",
        PAGER="cat",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL="/dev/null",
        GIT_ASKPASS="/bin/false",
        SSH_ASKPASS="/bin/false",
        SSH_ASKPASS_REQUIRE="never",
        GIT_SSH_VARIANT="ssh",
        GIT_SSH_COMMAND=ssh_command(spec, timeout_s=timeout_s),
    )
    if header is not None:
        # Scoped to the repository's origin; curl also drops it on a redirect to another host.
        env.update(
            GIT_CONFIG_COUNT="1",
            GIT_CONFIG_KEY_0=f"http.{_origin(spec.url)}.extraHeader",
            GIT_CONFIG_VALUE_0=header,
        )
    return env


def ssh_command(spec: RepositorySpec, *, timeout_s: float) -> str:
    """The ``GIT_SSH_COMMAND``: never prompts, never trusts an unknown host key (no TOFU),
    never writes to known_hosts. Without ``known_hosts_file`` the user's own files are used."""
    options = [
        "ssh",
        "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=yes",
        "-o", "UpdateHostKeys=no",
        "-o", f"ConnectTimeout={max(1, math.ceil(timeout_s))}",
        "-o", "ControlMaster=no",
        "-o", "ControlPath=none",
    ]  # fmt: skip
    # Made absolute here: git, and so ssh, runs in the state dir, not in the caller's folder.
    if spec.ssh_key_file is not None:
        options += ["-i", str(spec.ssh_key_file.absolute()), "-o", "IdentitiesOnly=yes"]
    if spec.known_hosts_file is not None:
        options += [
            "-o", f"UserKnownHostsFile={spec.known_hosts_file.absolute()}",
            "-o", "GlobalKnownHostsFile=/dev/null",
        ]  # fmt: skip
    return shlex.join(options)


def authorization_header(spec: RepositorySpec) -> str | None:
    """``Authorization: Basic ...`` for an http(s) spec with a token file or URL userinfo.

    The user is the URL's (GitLab wants any name, e.g. ``oauth2``), else ``x-access-token``
    (GitHub, Gitea, Forgejo). A token file wins over a password written in the URL.
    """
    user, password = url_credentials(spec.url)
    if spec.token_file is not None:
        password = read_token(spec.token_file)
        user = user or "x-access-token"
    if user is None:
        return None
    pair = f"{user}:{password or ''}".encode()
    return "Authorization: Basic " + base64.b64encode(pair).decode("ascii")


def read_token(path: Path) -> str:
    """The token in ``path`` (surrounding whitespace dropped); read at each fetch, never kept."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise FetchAuthError(f"cannot read token file {path}: {e.__class__.__name__}") from None
    if not token:
        raise FetchAuthError(f"token file {path} is empty")
    return token


def secrets_in(header: str | None) -> list[str]:
    """What must never appear in a message: the header's value and the password inside it."""
    if header is None:
        return []
    encoded = header.rpartition(" ")[2]
    password = base64.b64decode(encoded).decode().partition(":")[2]
    return [s for s in (header, encoded, password) if s]


def command_url(spec: RepositorySpec) -> str:
    """The URL given to git: credentials moved out (they travel in the environment), a local
    path made absolute because git runs in the state dir, not in the caller's folder."""
    if transport_of(spec.url) == "local":
        return str(Path(spec.url).absolute())
    return url_without_userinfo(spec.url)


def run_git(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    deadline: float,
    action: str,
    redactor: Callable[[str], str],
    stdin: bytes | None = None,
    cancel: threading.Event | None = None,
) -> GitOutput:
    """Run ``git HARDENING args``; at ``deadline`` (monotonic clock) raise ``FetchTimeout``
    saying which ``action`` (already redacted, e.g. "cannot fetch URL") did not finish; once
    ``cancel`` is set (the controller stops), stop git within a quarter second and raise
    ``FetchCancelled``."""
    try:
        proc = subprocess.Popen(
            ["git", *HARDENING, *args],
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
    except OSError as e:  # no git on PATH, or the state dir vanished
        raise FetchError(f"{action}: cannot run git: {e.strerror or e}") from e
    try:
        while True:
            remaining = deadline - time.monotonic()
            try:  # retrying communicate() loses no output (and sends stdin once)
                out, err = proc.communicate(stdin, timeout=max(0.0, min(_TICK, remaining)))
                break
            except subprocess.TimeoutExpired:
                if cancel is not None and cancel.is_set():
                    kill_group(proc)
                    raise FetchCancelled(f"{action}: stopped: the controller stops") from None
                if time.monotonic() >= deadline:
                    kill_group(proc)
                    raise FetchTimeout(
                        f"{action}: timed out; git and its children were stopped"
                    ) from None
    finally:
        # Whatever happened (timeout, interrupt, success), nothing of this call survives it.
        kill_group(proc)
    return GitOutput(proc.returncode, out, redactor(err.decode("utf-8", "replace")))


def failure(*, action: str, output: GitOutput) -> FetchError:
    """The typed error for a failed git call: auth, timeout, else unreachable."""
    lines = [
        line.strip()
        for line in output.stderr.splitlines()
        if line.strip() and line.strip() not in _BOILERPLATE
    ]
    detail = "; ".join(lines[-_STDERR_LINES:]) or f"git exited with {output.returncode}"
    lowered = output.stderr.lower()
    kind = FetchError
    if any(m in lowered for m in _AUTH_MARKERS):
        kind = FetchAuthError
    elif any(m in lowered for m in _TIMEOUT_MARKERS):
        kind = FetchTimeout
    return kind(f"{action}: {detail}")


def kill_group(proc: subprocess.Popen) -> None:
    # The group id is git's pid; the kernel does not hand it out again while a member of the
    # group (a lingering ssh) lives, so this reaches only what git started.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc.returncode is None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.communicate(timeout=5)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of an http(s) URL, the key git matches ``http.<url>.*`` on."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme.lower()}://{host}{port}"
