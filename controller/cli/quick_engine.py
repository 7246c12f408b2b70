"""``stackctl version`` and ``stackctl logs STACK`` answered before typer and docker-py are
imported, as ``ps`` is (``quick.py``): the local engine over its unix socket
(``backends.docker.plain_api``), and exactly the lines the typer commands print.

``version``: one ``GET /version``. docker-py, connecting, asks the engine the same question and
speaks the engine's own API version with it (``from_env`` without a version), so the client's
API version is the engine's; docker-py's own version is read from its ``_version.py``, not
imported. Its table and ``-o json``; ``yaml`` is typer's.

``logs STACK [SERVICE]`` with ``--tail N``/``-n N`` and ``-t``/``--timestamps``: the stack's
containers as ``ps`` lists them, each container inspected (a TTY's log is one raw stream, any
other is multiplexed in frames, as docker-py reads it) and its log read whole with the
engine's timestamps, the lines merged in time order as ``ps_and_logs._sorted_lines`` merges
them. ``--follow``, ``--since``, an engines file, a stack named by digits (perhaps the old
``logs COMMAND_ID``), a stack with no container (typer's error) are typer's; so is anything the
engine answers unexpectedly (typer then says what is wrong).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from controller.cli.quick import (
    ENGINE_TIMEOUT,
    _completing,
    _on_local,
    _plain_settings,
    read_command,
)

_OUTPUT = {"-o": "output", "--output": "output"}
_LOGS_VALUED = {"--db": "db", "--tail": "tail", "-n": "tail"}
_LOGS_FLAGS = {"-t": "timestamps", "--timestamps": "timestamps"}
_MINIMUM_API = (1, 24)  # docker-py's MINIMUM_DOCKER_API_VERSION: below it, docker-py refuses


def answer_version(args: Sequence[str]) -> bool:
    """Print ``stackctl version``'s table (or JSON) for the local engine and say True; else
    print nothing and say False (typer then runs the command, and says any error)."""
    line = read_command(args, ("version",), valued=_OUTPUT)
    if line is None or line.arguments or _completing() or not _plain_settings():
        return False
    output = line.options.get("output", "table")
    from controller.cli.output import echo, echo_compatible

    if output not in ("table", "json") or not echo_compatible():
        return False
    from controller.backends.docker.plain_api import docker_py_version, get_json, local_socket

    socket_path = local_socket(os.environ)
    docker_py = docker_py_version() if socket_path is not None else None
    if socket_path is None or docker_py is None:
        return False
    info = get_json("/version", {}, socket_path=socket_path, timeout=ENGINE_TIMEOUT)
    if not isinstance(info, dict) or not _usable_api(info.get("ApiVersion")):
        return False
    engine = _engine_version(info, docker_py=docker_py)
    import platform

    from controller import __version__

    ours = {"version": __version__, "python": platform.python_version()}
    if output == "json":
        document = {"stackctl": ours, "engine": engine, "engine_error": None}
        echo(json.dumps(document, indent=2, ensure_ascii=False))
        return True
    echo(f"stackctl: {__version__} (Python {ours['python']})")
    echo(
        f"engine:   Docker {engine['version']}, API {engine['api_version']} "
        f"(min {engine['min_api_version']}), {engine['os']}/{engine['arch']}"
    )
    echo(f"client:   docker-py {docker_py}, API {engine['client_api_version']}")
    return True


def _usable_api(version: Any) -> bool:
    """An API version docker-py speaks (``utils.version_lt``: dot-separated integers)."""
    if not isinstance(version, str):
        return False
    parts = version.split(".")
    if not all(part.isascii() and part.isdigit() for part in parts):
        return False
    return tuple(int(part) for part in parts) >= _MINIMUM_API


def _engine_version(info: dict[str, Any], *, docker_py: str) -> dict[str, str]:
    """``containers.EngineVersion``'s fields, in its order, as ``engine_version`` fills them."""
    return {
        "version": str(info.get("Version", "?")),
        "api_version": str(info.get("ApiVersion", "?")),
        "min_api_version": str(info.get("MinAPIVersion", "?")),
        "client_api_version": str(info["ApiVersion"]),
        "os": str(info.get("Os", "?")),
        "arch": str(info.get("Arch", "?")),
        "docker_py": docker_py,
    }


def answer_logs(args: Sequence[str]) -> bool:
    """Print ``stackctl logs STACK [SERVICE] [--tail N] [-t]`` and say True; else print
    nothing and say False (typer then runs the command, and says any error)."""
    line = read_command(args, ("logs",), flags=_LOGS_FLAGS, valued=_LOGS_VALUED)
    if line is None or len(line.arguments) not in (1, 2) or _completing():
        return False
    stack, service = line.arguments[0], (line.arguments[1:] or [None])[0]
    tail = line.options.get("tail")
    if stack.isdigit() or (tail is not None and not _digits(tail)):
        return False
    from controller.cli.output import echo, echo_compatible

    if not _plain_settings() or not echo_compatible():
        return False
    from controller.backends.docker.plain_api import local_socket

    socket_path = local_socket(os.environ)
    if socket_path is None or not _on_local(stack, line.options):
        return False
    sources = _log_sources(stack, service, socket_path=socket_path)
    if not sources:
        return False  # typer's error: no container of the stack (or the list failed)
    asked = "all" if tail is None else str(int(tail))  # as docker-py sends it
    read = [(source, _read_log(source[0], asked, socket_path=socket_path)) for source in sources]
    if any(lines is None for _, lines in read):
        return False
    merged = sorted((text, name) for (_, name), lines in read for text in lines or ())
    width = max(len(name) for _, name in sources)
    timestamps = "timestamps" in line.flags
    for text, name in merged:
        stamp, _, rest = text.partition(" ")
        echo(f"{name:<{width}} | " + (f"{stamp} {rest}" if timestamps else rest))
    return True


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _log_sources(stack: str, service: str | None, *, socket_path: str) -> list[tuple[str, str]]:
    """The (id, name) of the stack's containers (of ``service``), as ``ps`` lists them."""
    from controller.backends.docker.plain_api import get_json
    from controller.backends.docker.summaries import project_filter, summarize

    filters = json.dumps({"label": project_filter(stack)})
    query = {"limit": "-1", "all": "1", "size": "0", "trunc_cmd": "0", "filters": filters}
    listed = get_json("/containers/json", query, socket_path=socket_path, timeout=ENGINE_TIMEOUT)
    if not isinstance(listed, list):
        return []
    return [(c.id, c.name) for c in summarize(listed) if service in (None, c.service)]


def _read_log(container: str, tail: str, *, socket_path: str) -> list[str] | None:
    """The container's whole log (``tail`` lines of it), each line with its timestamp, as
    ``containers.container_logs`` gives it; ``None`` when the engine says anything else."""
    from controller.backends.docker.plain_api import demultiplexed, get, get_json

    info = get_json(
        f"/containers/{container}/json", {}, socket_path=socket_path, timeout=ENGINE_TIMEOUT
    )
    tty = (info or {}).get("Config", {}).get("Tty") if isinstance(info, dict) else None
    if not isinstance(tty, bool):
        return None
    query = {"stderr": "1", "stdout": "1", "timestamps": "1", "follow": "0", "tail": tail}
    answer = get(
        f"/containers/{container}/logs", query, socket_path=socket_path, timeout=ENGINE_TIMEOUT
    )
    if answer is None or answer.status != 200:
        return None
    stream = answer.body if tty else demultiplexed(answer.body)
    return None if stream is None else log_lines(stream)


def log_lines(stream: bytes) -> list[str]:
    """``shared.log_stream.log_lines`` of the stream given whole: lines split at ``\\n``, each
    decoded (``\\r`` dropped at its end), and what follows the last ``\\n``, if anything."""
    *lines, pending = stream.split(b"\n")
    found = [line.decode("utf-8", "replace").rstrip("\r") for line in lines]
    if pending:
        found.append(pending.decode("utf-8", "replace"))
    return found
