"""The desired-state model: what a stack should be, canonical and digested.

Where it sits in the flow: docs/architecture.md, "The flow".

``compose`` holds the canonical Compose project (one long form for every short syntax),
``stack`` the ``DesiredStack`` around it, ``digest`` the hashing (stack digest and the per-service
config hash the planner compares with container labels), ``names`` the naming rules both the
loader and the model enforce, and ``repository`` the ``RepositorySpec`` of a git repository
source (with the URL redaction every message uses).

Values only: this package never reads files, the environment, the database or the engine. The
source layer builds these values from files; the planner, the runtime, health and versions read
them. Keeping them out of ``source`` means those layers depend on the model, not on the loader.
"""

from controller.desired.compose import ComposeProject, Mount, Service, context_path, host_path
from controller.desired.desired_stack import DesiredStack
from controller.desired.digest import config_hash

__all__ = [
    "ComposeProject",
    "DesiredStack",
    "Mount",
    "Service",
    "config_hash",
    "context_path",
    "host_path",
]
