"""Who the command line on this machine is: ``local:<user>``, as the audit log and versions
name it (``stackctl rollback by local:root``).

Whoever can write the database file can change anything (the file is the controller's state),
so the local command line is not checked against roles; it is recorded. Free of typer and
pydantic: ``apply``'s quick path (``quick_files.py``) uses it too.
"""

from __future__ import annotations

import getpass
import os

from controller.models.audit import Actor, Surface

LOCAL_KIND = "local"  # models.access.PrincipalKind.LOCAL


def local_user() -> str:
    """The login name (``$LOGNAME``, ``$USER``..., then the password database); the uid when
    there is none (a container's user without an entry)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return f"uid{os.getuid()}"


def local_actor() -> Actor:
    """The actor of a change made by this command line."""
    return Actor(who=f"local:{local_user()}", who_kind=LOCAL_KIND, surface=Surface.CLI)
