"""``GET``s of the local engine's API without docker-py: for the CLI's quick reads
(``cli/quick.py``, ``cli/quick_engine.py``, ``cli/quick_describe.py``), each a few lists, an
inspection or a log, as ``docker compose ps`` answers; and for an engine's read calls
(``plain_reads``: what ``apply`` and ``diff`` of an unchanged stack ask).

docker-py (with requests and urllib3) costs more to import than the rest of ``stackctl ps``
together. This reaches only the engine docker-py's ``from_env`` reaches over a unix socket
(``DOCKER_HOST`` unset, empty or ``unix://``, and no Docker CLI context other than ``default``:
docker-py 7 follows ``DOCKER_CONTEXT`` and the config file's ``currentContext``), speaks
HTTP/1.0 (the engine then answers with the whole body and closes: no chunks), and answers
``None`` for anything it does not expect (no socket, a refusal, an unexpected status, a body
that is not JSON): the caller then takes docker-py's path, which says what is wrong in its
words. Read-only: it only sends ``GET``.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

DEFAULT_SOCKET = "/var/run/docker.sock"  # docker-py's DEFAULT_UNIX_SOCKET
_CHUNK = 65536
_STREAM_HEADER = 8  # docker-py's STREAM_HEADER_SIZE_BYTES: a multiplexed frame's header


def local_socket(environ: Mapping[str, str]) -> str | None:
    """The socket ``docker.from_env`` would talk to, or ``None`` (a TCP, SSH or TLS engine,
    or one a Docker CLI context names)."""
    host = environ.get("DOCKER_HOST")
    if not host and _named_context(environ):
        return None
    host = host or f"unix://{DEFAULT_SOCKET}"
    if not host.startswith("unix://") or environ.get("DOCKER_TLS_VERIFY"):
        return None
    return host.removeprefix("unix://") or None


def _named_context(environ: Mapping[str, str]) -> bool:
    """Whether docker-py would take its engine from a Docker CLI context other than
    ``default`` (``docker.context``: ``DOCKER_CONTEXT``, else ``currentContext`` in the first
    config file found; a file it cannot read is ``default``)."""
    name: Any = environ.get("DOCKER_CONTEXT")
    if not name:
        home = os.path.expanduser("~")
        config_dir = environ.get("DOCKER_CONFIG")
        paths = [
            *([os.path.join(config_dir, "config.json")] if config_dir else []),
            os.path.join(home, ".docker", "config.json"),
            os.path.join(home, ".dockercfg"),
        ]
        path = next((p for p in paths if os.path.exists(p)), None)
        if path is None:
            return False
        try:
            with open(path) as f:
                name = json.load(f).get("currentContext", "default")
        except Exception:
            return False
    return bool(name) and name != "default"


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: its status, its headers (names in lower case) and its body."""

    status: int
    headers: dict[str, str]
    body: bytes


def get(
    path: str,
    query: Mapping[str, str],
    *,
    socket_path: str,
    timeout: float,
    safe: str = "/",
    raise_timeout: bool = False,
) -> Answer | None:
    """The answer to ``GET path?query``, or ``None`` when there is none or it is not plain
    HTTP/1 with a whole body (no chunks). ``safe``: the characters of ``path`` sent as they
    are (docker-py's: ``/:``). ``raise_timeout``: an engine that accepted the connection but
    did not answer within ``timeout`` raises ``TimeoutError`` instead (asking again through
    docker-py would wait as long once more)."""
    target = quote(path, safe=safe) + ("?" + urlencode(query) if query else "")
    request = f"GET {target} HTTP/1.0\r\nHost: docker\r\nUser-Agent: stackctl\r\n\r\n"
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(socket_path)
            conn.sendall(request.encode("ascii"))
            answer = _read_all(conn)
    except TimeoutError:
        if raise_timeout:
            raise
        return None
    except OSError:
        return None
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    words = status_line.split(" ")
    if not words[0].startswith("HTTP/1.") or len(words) < 2 or not words[1].isdigit():
        return None
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "transfer-encoding" in headers:
        return None
    return Answer(int(words[1]), headers, body)


def get_json(path: str, query: Mapping[str, str], *, socket_path: str, timeout: float) -> Any:
    """The JSON body of ``GET path?query``, or ``None`` when anything is not as expected."""
    answer = get(path, query, socket_path=socket_path, timeout=timeout)
    if answer is None or answer.status != 200:
        return None
    try:
        return json.loads(answer.body)
    except ValueError:
        return None


def get_body(
    path: str,
    query: Mapping[str, str],
    *,
    socket_path: str,
    timeout: float,
    safe: str = "/",
    raise_timeout: bool = False,
) -> bytes | None:
    """The body of ``GET path?query`` answered 200, or ``None`` when anything is not as
    expected (``get``'s ``safe`` and ``raise_timeout``)."""
    answer = get(
        path,
        query,
        socket_path=socket_path,
        timeout=timeout,
        safe=safe,
        raise_timeout=raise_timeout,
    )
    return answer.body if answer is not None and answer.status == 200 else None


def demultiplexed(body: bytes) -> bytes | None:
    """A non-TTY container's log stream (frames: an 8-byte header, stream number and size,
    then the bytes) as the one stream docker-py's ``logs`` gives: every frame's bytes in
    order, stdout's and stderr's together; ``None`` when the frames do not add up."""
    parts, at = [], 0
    while at < len(body):
        header = body[at : at + _STREAM_HEADER]
        if len(header) < _STREAM_HEADER or header[0] not in (0, 1, 2) or any(header[1:4]):
            return None
        size = int.from_bytes(header[4:], "big")
        start = at + _STREAM_HEADER
        if start + size > len(body):
            return None
        parts.append(body[start : start + size])
        at = start + size
    return b"".join(parts)


def _read_all(conn: socket.socket) -> bytes:
    parts = []
    while chunk := conn.recv(_CHUNK):
        parts.append(chunk)
    return b"".join(parts)


def docker_py_version() -> str | None:
    """docker-py's version as ``docker.__version__`` says it, read from its ``_version.py``
    (written by its build) without importing docker; ``None`` when that file is not there or
    not of the expected form (``docker.__version__`` then comes from the package metadata)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("docker")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        try:
            with open(os.path.join(folder, "_version.py"), encoding="utf-8") as f:
                text = f.read()
        except OSError:
            continue
        return _assigned_version(text)
    return None


def _assigned_version(text: str) -> str | None:
    """The string of the ``__version__ = version = '7.2.0'`` line (setuptools-scm's and
    vcs-versioning's form; also ``__version__ = '7.2.0'``)."""
    import re

    found = re.search(
        r"""^__version__\s*=\s*(?:version\s*=\s*)?(['"])([^'"\\]+)\1\s*$""", text, re.M
    )
    return found.group(2) if found else None
