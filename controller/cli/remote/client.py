"""The controller's HTTP API, asked with ``urllib.request``: JSON in and out, the bearer token,
and every way it can fail as one ``RemoteError`` whose message says what to do.

- 401: the server does not know the token: log in (``stackctl login --server URL``) or give
  one (``--token-file``, ``STACKCTL_TOKEN``).
- 403: the token's role does not allow it here (the server's message says which role it holds).
- other answers: the server's ``{"message": ...}`` (and each of its ``errors``, a 422's).
- no answer: the server does not answer (connection refused, a timeout, a name that does not
  resolve), said with the URL.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from controller import __version__

TIMEOUT = 30.0  # seconds for one request (apply and diff: see their commands)


class RemoteError(Exception):
    """What went wrong, as the line to print (``error: ...``), and the exit status."""

    def __init__(self, message: str, *, status: int | None = None, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.status = status  # the HTTP status, when the server answered
        self.code = code
        self.errors: list[Any] = []


def normal_server(url: str) -> str:
    """``url`` as the credentials file keys it: ``http(s)://host[:port][/path]``, no trailing
    slash; anything else is a ``RemoteError``."""
    parsed = urllib.parse.urlsplit(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise RemoteError(f"--server {url!r}: give the controller's URL, http://HOST:PORT", code=2)
    if parsed.query or parsed.fragment:
        raise RemoteError(f"--server {url!r}: a URL without ?query or #fragment", code=2)
    return f"{parsed.scheme}://{parsed.netloc}{parsed.path.rstrip('/')}"


@dataclass(frozen=True)
class Client:
    """One controller (``server``, normalized) and the caller's ``token`` (None: none sent)."""

    server: str
    token: str | None

    def get(self, path: str, query: Mapping[str, object] | None = None) -> Any:
        """The JSON of ``GET /api/v1{path}?query`` (``None`` values left out)."""
        return self.send("GET", path, query=query)

    def post(self, path: str, body: object = None, *, timeout: float = TIMEOUT) -> Any:
        """The JSON of ``POST /api/v1{path}`` with ``body`` as JSON (``None``: no body)."""
        return self.send("POST", path, body=body, timeout=timeout)

    def send(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, object] | None = None,
        body: object = None,
        timeout: float = TIMEOUT,
    ) -> Any:
        request = urllib.request.Request(
            self.url(path, query), method=method, headers=self._headers(body is not None)
        )
        if body is not None:
            request.data = json.dumps(body).encode()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return self._json(response.status, response.read())
        except urllib.error.HTTPError as e:
            raise self._refusal(e) from None
        except urllib.error.URLError as e:
            raise self._unreachable(e.reason) from None
        except TimeoutError as e:
            raise self._unreachable(e) from None
        except (http.client.HTTPException, ConnectionError) as e:
            raise RemoteError(f"{self.server}: the connection broke: {e}") from None

    def url(self, path: str, query: Mapping[str, object] | None = None) -> str:
        shown = {k: _query_value(v) for k, v in (query or {}).items() if v is not None}
        encoded = urllib.parse.urlencode(shown)
        return f"{self.server}/api/v1{path}" + (f"?{encoded}" if encoded else "")

    def _headers(self, with_body: bool) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": f"stackctl/{__version__}"}
        if with_body:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def _json(self, status: int, raw: bytes) -> Any:
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            raise RemoteError(
                f"{self.server} answered HTTP {status} with something that is not JSON: is it"
                " a stackctl controller?",
                status=status,
            ) from None

    def _refusal(self, error: urllib.error.HTTPError) -> RemoteError:
        try:
            answer = json.loads(error.read() or b"null")
        except (ValueError, OSError):
            answer = None
        if not isinstance(answer, dict) or not isinstance(answer.get("message"), str):
            return RemoteError(
                f"{self.server} answered HTTP {error.code} ({error.reason}), not stackctl's"
                " JSON: is it a stackctl controller?",
                status=error.code,
            )
        message = answer["message"]
        if error.code == 401:
            message += (
                f"; log in with `stackctl login --server {self.server}` (or give --token-file"
                f" FILE or STACKCTL_TOKEN)"
            )
        elif error.code == 403:
            message = f"not allowed: {message}"
        found = RemoteError(message, status=error.code)
        found.errors = list(answer.get("errors") or [])
        return found

    def _unreachable(self, reason: object) -> RemoteError:
        match reason:
            case ConnectionRefusedError():
                why = "connection refused: is `stackctl run` serving its API there?"
            case TimeoutError():
                why = "no answer in time"
            case socket.gaierror():
                why = f"its host name does not resolve ({reason})"
            case ssl.SSLError():
                why = f"TLS failed ({reason})"
            case _:
                why = str(reason)
        return RemoteError(f"the server {self.server} does not answer: {why}")


def _query_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def quoted(segment: str) -> str:
    """A name as one path segment (``/`` and odd characters escaped)."""
    return urllib.parse.quote(segment, safe="")
