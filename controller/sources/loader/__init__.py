"""The source layer: a directory of files -> validated, normalized desired stacks, each with a
digest (docs/architecture.md, "The flow").

Pure: it reads files under the watched root and nothing else. It never imports the database,
the runtime, the CLI, ``sqlite3`` or ``docker``, and never reads the process environment
(interpolation variables come from the files only). The one exception is SOPS: an encrypted
file is decrypted once through ``controller.sources.secrets`` (the ``sops`` program, with the
controller's age key) to check it, and only placeholders and ciphertext enter the model
(``controller.sources.loader.encrypted_files``). The watcher calls ``load_root`` and
compares digests with the stored versions. What it builds is the model in ``controller.desired``
(``DesiredStack`` and the canonical Compose project), which the planner, runtime and health read
without importing this package.

The pipeline: ``loader`` (which entries are sources; ``entries`` loads one, ``assembly`` puts
them together) -> ``manifest`` (the Stack kind) -> ``compiler`` (interpolation, name,
normalization) -> ``project`` (with ``objects`` and ``dependencies``)/``service`` (the
canonical model of ``controller.desired.compose``; ``engine_strings`` then refuses a NUL byte in
any of its strings) -> ``controller.desired.desired_stack.DesiredStack`` (digest via
``controller.desired.digest``).

The names below are loaded on first use (PEP 562), as in ``controller.db``: a module that needs
one leaf (the engine's planner reads ``units.parse_duration``) does not load the pipeline, and
with it SOPS and the JSON schema, which is most of a one-shot ``stackctl ps``'s start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from controller.sources.loader.cache import LoadCache
    from controller.sources.loader.issues import LoadWarning
    from controller.sources.loader.loader import collector_paused, load_path, load_root
    from controller.sources.loader.report import LoadResult, SourceReport

_HOMES = {
    "LoadCache": "cache",
    "LoadResult": "report",
    "LoadWarning": "issues",
    "SourceReport": "report",
    "collector_paused": "loader",
    "load_path": "loader",
    "load_root": "loader",
}

__all__ = [
    "LoadCache",
    "LoadResult",
    "LoadWarning",
    "SourceReport",
    "collector_paused",
    "load_path",
    "load_root",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
