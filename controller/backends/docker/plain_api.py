"""One ``GET`` of the local engine's API without docker-py: for the CLI's quick ``ps``
(``cli/quick.py``), whose whole answer is one list, as ``docker compose ps`` answers, and for
an engine's read calls (``plain_reads``: what ``apply`` and ``diff`` of an unchanged stack ask).

docker-py (with requests and urllib3) costs more to import than the rest of ``stackctl ps``
together. This reaches only the engine docker-py's ``from_env`` reaches over a unix socket
(``DOCKER_HOST`` unset, empty or ``unix://``), speaks HTTP/1.0 (the engine then answers with
the whole body and closes: no chunks), and answers ``None`` for anything it does not expect (no
socket, a refusal, a status other than 200, a body that is not JSON): the caller then takes
docker-py's path, which says what is wrong in its words. Read-only: it only sends ``GET``.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

DEFAULT_SOCKET = "/var/run/docker.sock"  # docker-py's DEFAULT_UNIX_SOCKET
_CHUNK = 65536


def local_socket(environ: Mapping[str, str]) -> str | None:
    """The socket ``docker.from_env`` would talk to, or ``None`` (a TCP, SSH or TLS engine)."""
    host = environ.get("DOCKER_HOST") or f"unix://{DEFAULT_SOCKET}"
    if not host.startswith("unix://") or environ.get("DOCKER_TLS_VERIFY"):
        return None
    return host.removeprefix("unix://") or None


def get_json(path: str, query: Mapping[str, str], *, socket_path: str, timeout: float) -> Any:
    """The JSON body of ``GET path?query``, or ``None`` when anything is not as expected."""
    body = get_body(path, query, socket_path=socket_path, timeout=timeout)
    if body is None:
        return None
    try:
        return json.loads(body)
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
    expected. ``safe``: the characters of ``path`` sent as they are (docker-py's: ``/:``).
    ``raise_timeout``: an engine that accepted the connection but did not answer within
    ``timeout`` raises ``TimeoutError`` instead (asking again through docker-py would wait as
    long once more)."""
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
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1.") or lines[0].split(" ")[1:2] != ["200"]:
        return None
    if any(line.lower().startswith("transfer-encoding:") for line in lines[1:]):
        return None
    return body


def _read_all(conn: socket.socket) -> bytes:
    parts = []
    while chunk := conn.recv(_CHUNK):
        parts.append(chunk)
    return b"".join(parts)
