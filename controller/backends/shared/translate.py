"""docker-py's errors translated into the project's: what to do next, with the cause chained.

A 404 (no such container, image, network) is ``NotFoundError``, a ``PermanentError``: callers
that expect an object may be gone catch it by type instead of inspecting the cause. An engine
5xx is transient (a busy daemon) unless its message says the request itself can never succeed
(a value out of range, one that does not decode): those are permanent, whatever the status."""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING

from controller.models.errors import (
    NameInUseError,
    NotFoundError,
    PermanentError,
    StackctlError,
    TransientError,
)

if TYPE_CHECKING:
    from docker import errors as docker_errors

# Engine answers that retrying cannot fix, whatever their HTTP status says.
_PERMANENT_HINTS = (
    "port is already allocated",
    "address already in use",
    "no such image",
    "pull access denied",
    "invalid reference format",
    "invalid mount config",
    "invalid volume specification",
    "conflicting options",
)
# A value the engine can never take, whatever its status code (it answers some of these with
# 500, e.g. a memory limit past int64: "json: cannot unmarshal number 3.5e+20 into Go struct
# field HostConfig.Memory of type int64"). Retrying them would go on forever.
_OUT_OF_RANGE = re.compile(
    r"cannot unmarshal (number|string|bool|array|object)"
    r"|value out of range|out of range|invalid argument|invalid value"
    r"|minimum memory limit|range of cpus|cpus? (value|limit)",
    re.IGNORECASE,
)


# "Conflict. The container name "/x" is already in use by container "id". You have to ..."
_NAME_IN_USE = re.compile(
    r'name "/?(?P<name>[^"]+)" is already in use by container "(?P<holder>\w+)"'
)


def _ssh_error(error: Exception) -> bool:
    """paramiko's ``SSHException``, looked at once paramiko is loaded for real (an ``ssh://``
    engine): before that no such error can exist, and a local engine's error does not load
    paramiko to find out (``controller/backends/__init__.py``)."""
    module = sys.modules.get("paramiko.ssh_exception")
    return module is not None and isinstance(error, module.SSHException)


def translate(error: Exception, *, doing: str) -> StackctlError:
    """A project error for a docker-py (or transport) error raised while ``doing``."""
    if isinstance(error, StackctlError):
        return error
    if isinstance(error, TimeoutError):  # a plain read the engine did not answer in time
        return TransientError(f"{doing}: engine unreachable (no answer: {error or 'timed out'})")
    # Here, not above: an engine's reads go without docker-py (docker.plain_reads) until one
    # fails, and that failure is docker-py's (its call made again), loaded by then.
    import requests
    from docker import errors as docker_errors

    text = str(error)
    if isinstance(error, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
        return TransientError(f"{doing}: engine unreachable ({text})")
    if _ssh_error(error):  # an ssh:// engine's channel or connection
        return TransientError(
            f"{doing}: engine unreachable over SSH ({type(error).__name__}: {text})"
        )
    if isinstance(error, docker_errors.ImageNotFound):
        return NotFoundError(f"{doing}: image not found ({_explanation(error)})")
    if isinstance(error, docker_errors.NotFound):  # the object asked for does not exist
        return NotFoundError(f"{doing}: {_explanation(error)}")
    if isinstance(error, docker_errors.APIError):
        explanation = _explanation(error)
        in_use = _NAME_IN_USE.search(explanation)
        if error.status_code == 409 and in_use:
            return NameInUseError(
                f"{doing}: {explanation}", name=in_use["name"], holder=in_use["holder"]
            )
        if any(hint in explanation.lower() for hint in _PERMANENT_HINTS):
            return PermanentError(f"{doing}: {explanation}")
        if _OUT_OF_RANGE.search(explanation):
            return PermanentError(f"{doing}: the engine refuses the value: {explanation}")
        if error.status_code is not None and error.status_code >= 500:
            return TransientError(f"{doing}: engine error {error.status_code}: {explanation}")
        return PermanentError(f"{doing}: {explanation}")
    if isinstance(error, docker_errors.DockerException):
        return TransientError(f"{doing}: {text}")
    return PermanentError(f"{doing}: {type(error).__name__}: {text}")


def _explanation(error: docker_errors.APIError) -> str:
    explanation = error.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode(errors="replace")
    return str(explanation or error)
