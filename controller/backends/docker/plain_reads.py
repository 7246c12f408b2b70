"""``PlainReads``: docker-py's ``APIClient`` whose read calls go over the local socket first.

docker-py (with requests and urllib3) costs a third of ``stackctl apply`` or ``diff`` of an
unchanged stack as a process, and its client asks the engine for its version before the first
call: observing a stack is only ``GET``s (``observing.DockerObserving``). For an engine
docker-py would reach over a unix socket (``plain_api.local_socket``), the reads below are
those ``GET``s sent as docker-py sends them (the same paths, quoting and query), their JSON
returned as docker-py returns it. Anything not as expected (no socket, a status other than 200,
a body that is not JSON, an argument of another shape) is the same call made through docker-py
(but an engine that does not answer in time raises ``TimeoutError``, an unreachable engine's
error, at once: docker-py would only wait as long again),
so its errors, and their translation (``shared.translate``), stay docker-py's; so is every other
call (``create_container``, ``pull``...): the client is made then, on first use.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from controller.backends.docker.plain_api import get_body

_SAFE = "/:"  # docker-py's quoting of a path's arguments (``APIClient._url``)
_DOCKER_PY = object()  # an answer not as expected: the call goes to docker-py


def _filters(filters: dict[str, Any]) -> str:
    """docker-py's ``utils.convert_filters``."""
    result = {}
    for key, value in filters.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, list):
            value = [value]
        result[key] = [item if isinstance(item, str) else str(item) for item in value]
    return json.dumps(result)


class PlainReads:
    """docker-py's ``APIClient`` (``api()``, made when first needed), its read calls answered
    over ``socket_path`` when the engine answers as expected."""

    def __init__(self, socket_path: str, *, timeout: float, api: Callable[[], Any]) -> None:
        self._socket, self._timeout, self._api = socket_path, timeout, api

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)  # Python's questions make no client
        return getattr(self._api(), name)  # every other call is docker-py's

    def _get(self, path: str, query: dict[str, str], *, json_body: bool = True) -> Any:
        """The answer, or ``_DOCKER_PY`` (not as expected: the caller asks docker-py)."""
        body = get_body(
            path,
            query,
            socket_path=self._socket,
            timeout=self._timeout,
            safe=_SAFE,
            raise_timeout=True,  # translated as docker-py's timeout is (shared.translate)
        )
        if body is None:
            return _DOCKER_PY
        if not json_body:
            return body.decode("utf-8", "replace")
        try:
            return json.loads(body)
        except ValueError:
            return _DOCKER_PY

    def containers(self, all: bool = False, filters: dict[str, Any] | None = None) -> Any:
        query = {"limit": "-1", "all": "1" if all else "0", "size": "0", "trunc_cmd": "0"}
        if filters:
            query["filters"] = _filters(filters)
        found = self._get("/containers/json", query)
        return self._api().containers(all=all, filters=filters) if found is _DOCKER_PY else found

    def networks(self, filters: dict[str, Any] | None = None) -> Any:
        found = self._get("/networks", {"filters": _filters(filters or {})})
        return self._api().networks(filters=filters) if found is _DOCKER_PY else found

    def volumes(self, filters: dict[str, Any] | None = None) -> Any:
        found = self._get("/volumes", {"filters": _filters(filters)} if filters else {})
        return self._api().volumes(filters=filters) if found is _DOCKER_PY else found

    def inspect_container(self, container: Any) -> Any:
        found = self._get(f"/containers/{container}/json", {}) if _plain(container) else _DOCKER_PY
        return self._api().inspect_container(container) if found is _DOCKER_PY else found

    def inspect_image(self, image: Any) -> Any:
        found = self._get(f"/images/{image}/json", {}) if _plain(image) else _DOCKER_PY
        return self._api().inspect_image(image) if found is _DOCKER_PY else found

    def ping(self) -> bool:
        found = self._get("/_ping", {}, json_body=False)
        return self._api().ping() if found is _DOCKER_PY else found == "OK"


def _plain(argument: Any) -> bool:
    """An id, a name or an image reference (docker-py also takes a dict with an ``Id``; one
    with ``{`` or ``%`` in it is docker-py's to format)."""
    return isinstance(argument, str) and bool(argument) and not set(argument) & set("{}%?#")
