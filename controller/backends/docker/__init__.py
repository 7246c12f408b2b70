"""The runtime adapter: the only code that imports ``docker``.

``Engine.observe`` returns a plain ``Snapshot`` of what the engine has for a stack (objects
labelled as the stack's, and nothing else); ``Engine.execute`` carries out one planner ``Step``.
docker-py's errors become ``TransientError`` / ``PermanentError`` here, with the original chained.
Every engine call is counted (``Engine.calls``), mutating ones apart, so tests can assert that an
unchanged stack costs zero mutating calls. ``Engines`` holds the controller's named engines
(``local`` always); ``EngineBackend`` (``contract``) is what the rest of the controller may ask
of one, and the contract suite (tests/runtime/contract) runs against every backend.
Remote engines are reached in ``connection`` (``tcp://`` with TLS; ``ssh://`` through
``ssh_transport``, the host key checked against known_hosts).
"""

from controller.backends.docker.contract import EngineBackend
from controller.backends.docker.engine import Engine, EngineCalls

__all__ = ["Engine", "EngineBackend", "EngineCalls"]
