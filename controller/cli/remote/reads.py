"""The reads through the API: ``get stacks|versions|commands``, ``history``, ``describe``,
``audit``, each printed with the local command's table (``-o json``: the API's JSON).

``get versions`` and ``history`` list oldest first, as the local commands do (the API pages
newest first: every page is read). ``describe`` asks the controller for the containers too
(``GET /api/v1/stacks/NAME/containers``); a controller that cannot say (no engine behind its
API) leaves the services table out with a line saying why.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from controller.cli.listing import GetOutput, Listing, print_all
from controller.cli.plain_io import echo
from controller.cli.remote.client import Client, RemoteError, quoted
from controller.cli.remote.views import views

MAX_PAGE = 500
Add = Callable[..., argparse.ArgumentParser]


def add_get(kinds: Any, common: argparse.ArgumentParser, *, outputs: Sequence[str]) -> None:
    """``get stacks [NAME] [-A]``, ``get versions STACK``, ``get commands [filters]``."""

    def kind(name: str, handler: Any, text: str) -> argparse.ArgumentParser:
        sub = kinds.add_parser(name, parents=[common], help=text, description=text)
        sub.set_defaults(handler=handler, handler_name=f"get {name}", outputs=outputs)
        return sub

    stacks = kind("stacks", get_stacks, "The stacks (deleted ones with --all, or named).")
    stacks.add_argument("name", nargs="?", help="Only this stack.")
    stacks.add_argument(
        "-A", "--all", dest="every", action="store_true", help="Deleted stacks too."
    )
    versions = kind("versions", get_versions, "A stack's versions, oldest first.")
    versions.add_argument("stack")
    commands = kind("commands", get_commands, "The queue, newest first.")
    commands.add_argument("--stack", help="Only this stack's commands.")
    commands.add_argument("--status", help="Only this status (PENDING, RUNNING, DONE...).")
    commands.add_argument("--type", dest="kind", help="Only this type.")
    commands.add_argument("--limit", type=int, default=20, help="At most N (1..500).")
    commands.add_argument("--cursor", help="The page after this cursor.")


def add_commands(add: Add) -> None:
    history = add("history", show_history, "A stack's versions with their lineage.")
    history.add_argument("stack")
    describe = add(
        "describe", describe_stack, "Status, conditions, containers, last commands, recent events."
    )
    describe.add_argument("stack")
    audit = add(
        "audit",
        list_audit,
        "Who changed what, newest first.",
    )
    audit.add_argument("--stack", help="Only this stack's entries.")
    audit.add_argument("--who", help="Only this identity's (a user, `token NAME`...).")
    audit.add_argument("--since", help="Since 24h, 7d... ago, or 2026-12-01T00:00Z.")
    audit.add_argument("--limit", type=int, default=50, help="At most N (1..500).")


def pages(client: Client, path: str, query: dict[str, object] | None = None) -> list[Any]:
    """Every item of a paged list, in the API's order."""
    items: list[Any] = []
    cursor = None
    while True:
        page = client.get(path, {**(query or {}), "limit": MAX_PAGE, "cursor": cursor})
        items.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return items


def print_data(data: Any, output: str) -> None:
    """The API's JSON (indented), or as YAML."""
    if output == "yaml":
        import yaml

        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    else:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def print_items(listing: Listing, items: list[Any], output: str) -> None:
    if output in ("json", "yaml"):
        print_data(items, output)
    else:
        print_all(listing, views(items), GetOutput(output))


def get_stacks(session: Any, found: argparse.Namespace) -> int:
    from controller.cli.quick import STACKS

    client = session.client
    if found.name is not None:
        items = [client.get(f"/stacks/{quoted(found.name)}")]
    else:
        items = pages(client, "/stacks", {"all": True if found.every else None})
    print_items(STACKS, items, session.output)
    return 0


def versions_of(client: Client, stack: str) -> list[Any]:
    """The stack's versions, oldest first."""
    return list(reversed(pages(client, f"/stacks/{quoted(stack)}/versions")))


def get_versions(session: Any, found: argparse.Namespace) -> int:
    from controller.cli.history_table import VERSIONS

    print_items(VERSIONS, versions_of(session.client, found.stack), session.output)
    return 0


def get_commands(session: Any, found: argparse.Namespace) -> int:
    from controller.cli.command_table import COMMANDS

    query = {"stack": found.stack, "status": found.status, "type": found.kind,
             "limit": found.limit, "cursor": found.cursor}  # fmt: skip
    page = session.client.get("/commands", query)
    print_items(COMMANDS, page["items"], session.output)
    if page.get("next_cursor"):
        echo(f"more: --cursor {page['next_cursor']}", err=True)
    return 0


def show_history(session: Any, found: argparse.Namespace) -> int:
    from controller.cli.history_table import COLUMNS, rows
    from controller.cli.output import print_table
    from controller.cli.remote.views import View

    stack = session.client.get(f"/stacks/{quoted(found.stack)}")
    versions = versions_of(session.client, found.stack)
    if session.output != "table":
        print_data(versions, session.output)
        return 0
    print_table(COLUMNS, rows(View(stack), views(versions)))
    return 0


def list_audit(session: Any, found: argparse.Namespace) -> int:
    """``stackctl audit``'s table (``audit_table``) of the controller's log; ``--limit`` at
    most the API's page (500)."""
    from controller.cli.audit_table import AUDIT_COLUMNS, audit_row
    from controller.cli.output import print_table
    from controller.models.durations import parse_since

    if not 1 <= found.limit <= MAX_PAGE:
        raise RemoteError(f"--limit {found.limit}: from 1 to {MAX_PAGE}", code=2)
    since = None
    if found.since:
        try:
            since = parse_since(found.since, now=datetime.now(UTC)).isoformat()
        except ValueError as e:
            raise RemoteError(f"--since: {e}", code=2) from None
    query = {"stack": found.stack, "who": found.who, "since": since, "limit": found.limit}
    page = session.client.get("/audit", query)
    if session.output != "table":
        print_data(page["items"], session.output)
    else:
        print_table(AUDIT_COLUMNS, [audit_row(entry) for entry in views(page["items"])])
    if page.get("next_cursor"):
        more = (
            f"--limit {min(found.limit * 2, MAX_PAGE)} shows more"
            if found.limit < MAX_PAGE
            else "--since or --stack narrows the list"
        )
        echo(f"older entries left out: {more}", err=True)
    return 0


def describe_stack(session: Any, found: argparse.Namespace) -> int:
    from controller.cli.describe_text import (
        print_commands,
        print_conditions,
        print_details,
        print_events,
        print_fields,
        provenance,
    )
    from controller.cli.remote.views import View

    client, name = session.client, quoted(found.stack)
    stack = client.get(f"/stacks/{name}")
    latest = client.get(f"/stacks/{name}/versions", {"limit": 1})["items"]
    commands = client.get("/commands", {"stack": found.stack, "limit": 5})["items"]
    events = client.get("/events", {"stack": found.stack, "limit": 10})["items"]
    containers, note = _containers(client, name)
    if session.output != "table":
        details = {**stack, "commands": commands, "events": events}
        print_data({**details, "containers": containers, "engine_error": note}, session.output)
        return 0
    shown = {
        "stack": View(stack),
        "latest_version": stack.get("latest_version"),
        "engine": stack.get("engine"),
        "conditions": views(stack.get("conditions") or []),
        "source": provenance(View(latest[0]["metadata"])) if latest else None,
        "commands": views(commands),
        "events": views(events),
    }
    tables = views((containers or {}).get("tables") or [])
    if tables:
        print_details(shown, tables, note=note, echo=echo)
        return 0
    # No table to show: the sections around it, and the reason in its place.
    print_fields(
        shown["stack"],
        latest=shown["latest_version"],
        source=shown["source"],
        engine=shown["engine"],
        echo=echo,
    )
    print_conditions(shown["conditions"], echo=echo)
    echo(f"Services: {note or 'the controller says nothing of the containers'}")
    print_commands(shown["commands"], echo=echo)
    print_events(shown["events"], echo=echo)
    return 0


def _containers(client: Client, name: str) -> tuple[dict[str, Any] | None, str | None]:
    """What the controller's engine runs for the stack, and the note above it (an engine
    that did not answer, a controller that has no engine behind its API)."""
    try:
        found = client.get(f"/stacks/{name}/containers", {"view": "describe"})
    except RemoteError as e:
        if e.status in (None, 401, 403, 404):
            raise
        return None, f"the controller cannot say: {e.message}"
    return found, found.get("engine_error")  # the heading describe prints, as it is
