"""The source layer: a directory of files -> validated, normalized desired stacks, each with a
digest (DESIGN.md section 2).

Pure: it reads files under the watched root and nothing else. It never imports the database,
the runtime, the CLI, ``sqlite3`` or ``docker``, and never reads the process environment
(interpolation variables come from the files only). The watcher calls ``load_root`` and
compares digests with the stored versions; the runtime uses ``host_path`` and the bytes in
``DesiredStack.files``; the planner compares ``DesiredStack.service_hashes`` with the
config-hash labels of running containers.

The pipeline: ``loader`` (which entries are sources) -> ``manifest`` (the Stack kind) ->
``compiler`` (interpolation, name, normalization) -> ``project``/``service`` (canonical
model in ``compose``; ``engine_strings`` then refuses a NUL byte in any of its strings) ->
``stack`` (``DesiredStack``, digest via ``digest``).
"""

from controller.source.cache import LoadCache
from controller.source.compose import ComposeProject, Mount, Service, context_path, host_path
from controller.source.digest import config_hash
from controller.source.issues import LoadWarning
from controller.source.loader import load_path, load_root
from controller.source.report import LoadResult, SourceReport
from controller.source.stack import DesiredStack

__all__ = [
    "ComposeProject",
    "DesiredStack",
    "LoadCache",
    "LoadResult",
    "LoadWarning",
    "Mount",
    "Service",
    "SourceReport",
    "config_hash",
    "context_path",
    "host_path",
    "load_path",
    "load_root",
]
