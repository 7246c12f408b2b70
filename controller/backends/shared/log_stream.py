"""An engine's log stream as text lines, for a container's logs and a Swarm service's alike."""

from __future__ import annotations

from collections.abc import Iterator

import docker

from controller.backends.shared.translate import translate


def log_lines(chunks: Iterator[bytes], *, doing: str) -> Iterator[str]:
    """An engine's log stream (a container's or a Swarm service's) as text lines; a stream
    that breaks is the project's error, as every call's is."""
    pending = b""
    try:
        for chunk in chunks:
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                yield line.decode("utf-8", "replace").rstrip("\r")
    except docker.errors.DockerException as e:
        raise translate(e, doing=doing) from e
    if pending:
        yield pending.decode("utf-8", "replace")
