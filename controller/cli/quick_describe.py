"""``stackctl describe STACK`` answered before typer, pydantic and docker-py are imported, as
``ps`` is (``quick.py``): for a stack on the local engine reached over its unix socket, with no
engines file and a table to print.

The database's part is plain rows (``db.plain_details``: the stack, its latest and desired
versions, its last commands and events, in one transaction); the engine's is the containers
``Engine.observe`` would find (``backends.docker.plain_observe``); the conditions, the services
table and the text are the typer command's own functions (``commands.conditions``,
``backends.docker.summaries.container_rows``, ``describe_text``). Anything else is typer's,
which also says any error: ``-o json|yaml``, ``--engines``, ``describe repository|command
NAME``, a stack on another engine (or the local one unreachable, which describe says in its
table), a stack or a row the plain reads do not vouch for, an engine that answers
unexpectedly.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from controller.cli.quick import (
    ENGINE_TIMEOUT,
    _completing,
    _database,
    _plain_settings,
    read_command,
)

LOCAL = "local"  # desired.engine_spec.LOCAL


def answer_describe(args: Sequence[str]) -> bool:
    """Print ``stackctl describe STACK`` and say True; else print nothing and say False (typer
    then runs the command)."""
    line = read_command(args, ("describe",))
    if line is None or len(line.arguments) != 1 or _completing() or not _plain_settings():
        return False
    from controller.cli.output import echo, echo_compatible

    if line.options.get("output", "table") != "table" or not echo_compatible():
        return False
    from controller.backends.docker.plain_api import local_socket

    path, socket_path = _database(line.options.get("db")), local_socket(os.environ)
    if path is None or socket_path is None:
        return False
    from controller.db.plain_details import stack_details

    name = line.arguments[0]
    details = stack_details(path, name)
    if details is None or (details.stack.engine or details.applied_engine or LOCAL) != LOCAL:
        return False
    from controller.backends.docker.plain_observe import observe_containers

    snapshot = observe_containers(name, socket_path=socket_path, timeout=ENGINE_TIMEOUT)
    if snapshot is None:
        return False
    from controller.backends.docker.summaries import container_rows, services_table
    from controller.cli.describe_text import print_details, provenance
    from controller.commands.conditions import stack_conditions

    desired, latest = details.desired, details.latest_metadata
    try:
        conditions = stack_conditions(
            details.stack, latest_version=details.latest_version, current=desired
        )
    except ValueError:
        return False  # a version label that is not vN: typer's path says so
    shown = {
        "stack": details.stack,
        "latest_version": details.latest_version,
        "engine": details.stack.engine,
        "conditions": conditions,
        "source": provenance(latest) if latest is not None else None,
        "commands": details.commands,
        "events": details.events,
    }
    rows = container_rows(desired.services if desired else [], snapshot)
    print_details(shown, [services_table(rows)], note=None, echo=echo)
    return True
