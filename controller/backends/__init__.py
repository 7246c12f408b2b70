"""Backends: where stacks run. Each backend observes, plans (pure), carries a plan out,
judges health and removes; only this package imports ``docker``.

docker-py imports its SSH transport, and with it paramiko (cryptography, nacl, bcrypt), in
``import docker``: about a third of a one-shot command's start-up, for engines that are nearly
all ``unix://`` or ``tcp://``. Until something imports docker, ``paramiko`` is registered here as
a stand-in module that imports the real one on the first attribute read from it: ``import
paramiko`` then costs nothing, and an ``ssh://`` engine's transport (``shared.ssh_transport``,
docker-py's ``sshconn``) gets the real module's names as before. (``importlib.util.LazyLoader``
does not do: the import statement reads the module's ``__spec__``, which loads it.)
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any

_PARAMIKO = "paramiko"


class _OnFirstUse(ModuleType):
    """Stands for a module not imported yet; reading a name it lacks imports the module (in
    its place in ``sys.modules``) and gives the real module's name."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # the import machinery's questions load nothing
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), name)


def _paramiko_on_first_use() -> None:
    if _PARAMIKO in sys.modules or "docker" in sys.modules:
        return
    if importlib.util.find_spec(_PARAMIKO) is None:
        return  # not installed: docker-py says so for ssh:// as before
    sys.modules[_PARAMIKO] = _OnFirstUse(_PARAMIKO)


_paramiko_on_first_use()
