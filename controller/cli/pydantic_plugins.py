"""pydantic's plugin lookup, skipped when no installed distribution declares a plugin.

pydantic looks its plugins up when it builds the first model (``pydantic/plugin/_loader.py``):
it imports ``importlib.metadata`` (and through it ``email``, ``zipfile``, ``csv``...) and reads
the metadata of every installed distribution for the ``pydantic`` entry-point group. For a
one-shot command that is a tenth of its start, and in almost every installation the group is
empty. ``skip_plugin_lookup`` reads the entry points of the distributions on ``sys.path`` itself
(their ``entry_points.txt``, where that group would be declared); when none declares the group,
it gives pydantic a loader with no plugins, which is what pydantic would have found, without
the lookup. Nothing is set in the environment (child processes see it unchanged), and a
plugin that is installed is used as before:

- ``PYDANTIC_DISABLE_PLUGINS`` set (to anything): pydantic's own loader, as documented.
- any file that might declare the group (a section header naming ``pydantic``), a path entry
  that is not a plain folder (a zip, an egg), or a finder on ``sys.meta_path`` other than the
  standard one that can list distributions: pydantic's own loader.
- pydantic's loader already imported, or not the one this stands in for (it defines
  ``get_plugins``): left alone.

The CLI calls it before it loads pydantic (``controller/cli/__init__.py``).
"""

from __future__ import annotations

import os
import sys
from importlib.machinery import PathFinder
from importlib.util import find_spec
from types import ModuleType

LOADER = "pydantic.plugin._loader"
GROUP = "pydantic"


def skip_plugin_lookup() -> bool:
    """Give pydantic a loader with no plugins when no distribution declares one; True if so."""
    if LOADER in sys.modules or os.environ.get("PYDANTIC_DISABLE_PLUGINS") is not None:
        return False
    if not _loader_known() or not _listable() or _declared():
        return False
    sys.modules[LOADER] = _no_plugins()
    return True


def _no_plugins() -> ModuleType:
    """The loader pydantic imports, as it is once it has found no plugin."""
    module = ModuleType(LOADER, "pydantic's plugin loader: no distribution declares a plugin.")
    module.PYDANTIC_ENTRY_POINT_GROUP = GROUP  # type: ignore[attr-defined]
    module._plugins = {}  # type: ignore[attr-defined]
    module._loading_plugins = False  # type: ignore[attr-defined]
    module.get_plugins = _get_plugins  # type: ignore[attr-defined]
    return module


def _get_plugins() -> tuple[()]:
    return ()


def _loader_known() -> bool:
    """pydantic's loader is a file that defines ``get_plugins`` (the one name pydantic imports
    of it), found without importing pydantic."""
    try:
        spec = find_spec("pydantic")
    except (ImportError, ValueError):
        return False
    if spec is None or not spec.submodule_search_locations:
        return False
    path = os.path.join(next(iter(spec.submodule_search_locations)), "plugin", "_loader.py")
    try:
        with open(path, encoding="utf-8") as file:
            return "\ndef get_plugins(" in file.read()
    except OSError:
        return False


def _listable() -> bool:
    """Distributions are found only by the standard finder, in folders this module reads."""
    for finder in sys.meta_path:
        if getattr(finder, "find_distributions", None) is not None and finder is not PathFinder:
            return False
    for entry in sys.path:
        folder = entry or "."
        if folder.lower().endswith(".egg") or os.path.isfile(folder):
            return False
    return True


def _declared() -> bool:
    """Whether an ``entry_points.txt`` of a distribution on ``sys.path`` has a section header
    naming ``pydantic`` (more than the group itself: never fewer)."""
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:  # not a folder (the editable finder's marker): no distributions
            continue
        for name in names:
            if not name.lower().endswith((".dist-info", ".egg-info")):
                continue
            try:
                with open(os.path.join(entry or ".", name, "entry_points.txt"), "rb") as file:
                    text = file.read()
            except OSError:
                continue
            if any(
                line.lstrip().startswith(b"[") and GROUP.encode() in line.lower()
                for line in text.splitlines()
            ):
                return True
    return False
