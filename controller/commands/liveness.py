"""Whether the controller holding the database's lease is still alive: one home for the rule
that the daemon (take a dead controller's lease and claims over at once) and the command line
(run a command here when no controller would) both apply.

A lease names its holder's host and pid. On this host a pid that no longer exists is a
controller that was killed: its lease is worth nothing, whatever its expiry says. On another
host nothing can be asked, so the lease's expiry is the only word.
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from controller.db.leases import Lease


def holder_gone(lease: Lease) -> bool:
    """The lease's holder is a process of this host that no longer exists."""
    if lease.hostname != socket.gethostname():
        return False
    try:
        os.kill(lease.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False
