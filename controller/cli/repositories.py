"""``stackctl get repositories``, ``stackctl describe repository NAME`` and the fetch behind
``stackctl sync --repository NAME``.

They read (or, for the fetch, flag) the ``git_repositories`` rows the running controller keeps:
URL (always redacted: no credential is ever stored), ref, path, interval, who declares the
repository, the last fetched commit, the last fetch's time, result and error.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from controller.cli.app import get_app
from controller.cli.output import (
    OUTPUT_OPTION,
    Output,
    age,
    print_data,
    print_table,
    short,
    timestamp,
)
from controller.cli.running import DB_OPTION, POLL_SECONDS, fail, open_database

if TYPE_CHECKING:
    from controller.db import Database
    from controller.models import Repository


@get_app.command("repositories")
def get_repositories(db: Path | None = DB_OPTION, output: Output = OUTPUT_OPTION) -> None:
    """Every followed git repository: URL, ref, path, last commit, last fetch and its result."""
    with open_database(db) as database:
        repositories = database.repositories.list()
    if output is not Output.TABLE:
        print_data(repositories, output)
        return
    print_table(
        ["NAME", "URL", "REF", "PATH", "COMMIT", "FETCHED", "RESULT", "ERROR"],
        [
            [
                r.name,
                r.url,
                r.ref,
                r.path,
                (r.last_commit or "")[:12],
                age(r.last_fetch_at) if r.last_fetch_at else "never",
                r.last_result or "",
                short(r.last_error, 50) if r.last_error else "",
            ]
            for r in repositories
        ],
    )


def describe_repository(name: str, *, db: Path | None, output: Output) -> None:
    """Everything known of one repository."""
    with open_database(db) as database:
        found = database.repositories.get(name)
        if found is None:
            raise fail(f"no repository named {name!r}")
        stacks = _stacks_of(database, name)
    if output is not Output.TABLE:
        print_data({**found.model_dump(mode="json"), "stacks": stacks}, output)
        return
    for label, value in _lines(found):
        typer.echo(f"{label + ':':<14}{value}")
    typer.echo(f"{'Stacks:':<14}{', '.join(stacks) if stacks else '(none)'}")


def fetch_now(name: str, *, db: Path | None, wait: bool, timeout: float) -> None:
    """Flag the repository for a fetch; with ``wait``, follow it until the controller says how
    it went (exit 1 when it failed or nobody fetched in time)."""
    from controller.commands import operations
    from controller.models.errors import StackctlError

    with open_database(db) as database:
        try:
            asked = operations.request_fetch(database, name)
        except StackctlError as e:
            raise fail(str(e)) from e
        typer.echo(f"{name}: fetch asked; the running controller fetches it within a second")
        if not wait:
            return
        since = asked.fetch_requested_at or datetime.now(UTC)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = database.repositories.require(name)
            if now.last_fetch_at is not None and now.last_fetch_at >= since:
                if now.last_result == "failed":
                    raise fail(f"{name}: fetch failed: {now.last_error}")
                typer.echo(f"{name}: {now.last_result} at {(now.last_commit or '')[:12]}")
                return
            time.sleep(POLL_SECONDS)
    raise fail(f"{name}: not fetched after {timeout:g}s; is `stackctl run` using this database?")


def _lines(repository: Repository) -> list[tuple[str, str]]:
    return [
        ("Name", repository.name),
        ("URL", repository.url),
        ("Ref", repository.ref),
        ("Path", repository.path),
        ("Interval", f"{repository.interval_s:g}s"),
        ("Declared by", repository.declared_by),
        ("Commit", repository.last_commit or "(none yet)"),
        ("Author", repository.last_author or ""),
        ("Subject", repository.last_subject or ""),
        ("Fetched", timestamp(repository.last_fetch_at) if repository.last_fetch_at else "never"),
        ("Result", repository.last_result or ""),
        ("Error", repository.last_error or ""),
    ]


def _stacks_of(database: Database, name: str) -> list[str]:
    """The stacks whose latest version came from this repository."""
    found = []
    for stack in database.stacks.list():
        latest = database.stack_versions.latest(stack.stack_id)
        if latest is not None and latest.metadata.git_repository == name:
            found.append(stack.stack_id)
    return found
