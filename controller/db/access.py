"""``DatabaseAccess``: what a repository needs from ``Database``, and nothing more.

The repositories are typed against this protocol instead of ``Database`` so that ``database.py``
(which builds them) is the only one importing the other: no import cycle, not even a type-only one.
It must never grow methods that speak SQL; those belong in the repositories.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol


class DatabaseAccess(Protocol):
    """The connection's two ways in and the clock (see ``Database`` for what they guarantee)."""

    clock: Callable[[], datetime]

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...

    def reading(self) -> AbstractContextManager[sqlite3.Connection]: ...
