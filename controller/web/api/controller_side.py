"""What the API asks of the controller that serves it, for the routes a remote command line
uses (``apply``, ``diff``, ``ps``, ``logs``, ``describe``'s containers): where uploaded
manifests are kept, what manifests may reach, which engines are declared and which stack names
the controller's own sources declare, and the engine's answers.

The app never imports an engine: the daemon gives these as callables over its engines
(``controller.daemon.api``). Without them (an app built without a controller, as in tests),
``apply`` still records and queues, and the engine's routes answer 503.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from controller.desired.reach import Reach

if TYPE_CHECKING:
    from controller.desired import DesiredStack

# (desired, previous) -> the lines `stackctl diff` prints for the stack, and how many
# differences they are.
Plan = Callable[["DesiredStack", "DesiredStack | None"], tuple[list[str], int]]
# (stack, engine, its recorded services) -> a ``backends.interface.Listing`` (ps).
Containers = Callable[[str, str, list[str]], Any]
# (stack, engine, its recorded services) -> (describe's Listing, the line saying why the
# engine could not be asked: ``engine unreachable: ...``, or that it is not declared).
View = Callable[[str, str, list[str]], tuple[Any, str | None]]
# (stack, engine, service, tail, since) -> (source name, line), in time order.
Logs = Callable[[str, str, str | None, int | None, datetime | None], list[tuple[str, str]]]


@dataclass(frozen=True)
class ControllerSide:
    """``uploads``: the folder kept uploads live in (``manifests.py`` says why they are kept);
    ``reach``: what manifests may name (``--notify-allow``, ``--secrets-dir``); ``engines``:
    the declared engine names (``None``: not checked); ``claimed()``: every stack name one of
    the controller's sources (its folder, a repository) declares -> that source."""

    uploads: Path
    reach: Reach = field(default_factory=Reach)
    engines: frozenset[str] | None = None
    claimed: Callable[[], Mapping[str, str]] = dict
    plan: Plan | None = None
    containers: Containers | None = None
    view: View | None = None
    logs: Logs | None = None

    @classmethod
    def beside(cls, db_path: Path) -> ControllerSide:
        """No controller behind the app: uploads beside the database, no engine."""
        return cls(uploads=Path(db_path).parent / "uploads")
