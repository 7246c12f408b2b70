"""``stackctl token create``, ``list`` and ``revoke``: personal and service tokens for the API,
on the local database file (``--db``), as ``local:<user>``.

``create`` prints the token once, alone on stdout (``TOKEN=$(stackctl token create ...)``),
and says on stderr that it cannot be shown again: the database keeps an argon2id hash of its
secret (``commands/tokens.py``). ``list`` never shows a hash. Creating and revoking are in the
audit log (``token.create``, ``token.revoke``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from controller.cli.app import token_app
from controller.cli.output import OUTPUT_OPTION, Output, age, print_data, print_table, timestamp
from controller.cli.running import DB_OPTION, database_paths, fail, open_database
from controller.models.access import Role, SelectorError, StackSelector
from controller.models.durations import parse_duration

if TYPE_CHECKING:
    from controller.models.audit import ApiToken

COLUMNS = ("NAME", "ROLE", "STACKS", "OWNER", "CREATED", "EXPIRES", "LAST USED", "STATE")


@token_app.command("create")
def create(
    name: str = typer.Option(..., "--name", help="Its name, unique among live tokens."),
    role: Role = typer.Option(..., "--role", help="What it may do."),
    stacks: str | None = typer.Option(
        None,
        "--stacks",
        help="Only these stacks: name patterns and/or labels, comma-separated (shop*,billing"
        " or team=shop).",
        show_default="every stack",
    ),
    expires: str | None = typer.Option(
        None, "--expires", help="Its lifetime: 90m, 12h, 30d or 2w.", show_default="never"
    ),
    owner: str | None = typer.Option(
        None,
        "--owner",
        help="The person it acts for (a personal token).",
        show_default="none: a service token, recorded as `token NAME`",
    ),
    db: Path | None = DB_OPTION,
    output: Output = OUTPUT_OPTION,
) -> None:
    """Make a token for the API and print it, once: only its hash is kept.

    The token is printed alone on stdout (with -o json, as `token` beside its record)."""
    from controller.cli.local_actor import local_actor
    from controller.commands import tokens
    from controller.db import Database
    from controller.models.errors import ConflictError

    selector = _selector(stacks)
    lifetime = _lifetime(expires)
    try:
        tokens.check_name(name)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--name") from e
    with Database(db_path=database_paths(db).db) as database:  # a first token may come first
        try:
            text, token = tokens.create(
                database,
                local_actor(),
                name=name,
                role=role,
                stacks=selector,
                expires=lifetime,
                owner=owner,
            )
        except ConflictError as e:
            raise fail(str(e)) from e
    if output is Output.TABLE:
        typer.echo(text)
    else:
        print_data({"token": text, **shown(token, now=token.created_at)}, output)
    typer.echo(
        f"{tokens.described(token)} created; this is the only time it is shown: keep it now",
        err=True,
    )


def _selector(stacks: str | None) -> StackSelector | None:
    if stacks is None:
        return None
    try:
        return StackSelector.parse(stacks)
    except SelectorError as e:
        raise typer.BadParameter(str(e), param_hint="--stacks") from e


def _lifetime(expires: str | None) -> Any:
    if expires is None:
        return None
    try:
        return parse_duration(expires)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--expires") from e


@token_app.command("list")
def list_tokens(
    every: bool = typer.Option(False, "--all", "-A", help="Revoked tokens too."),
    db: Path | None = DB_OPTION,
    output: Output = OUTPUT_OPTION,
) -> None:
    """The tokens (never their secrets): role, stacks, owner, expiry, use.

    Expired tokens are listed (STATE expired); revoked ones with --all."""
    with open_database(db) as database:
        found = database.api_tokens.list(include_revoked=every)
        now = database.clock()
    if output is not Output.TABLE:
        print_data([shown(t, now=now) for t in found], output)
        return
    print_table(COLUMNS, [_row(t, now) for t in found])


def state(token: ApiToken, now: datetime) -> str:
    """``live``, ``expired`` or ``revoked``."""
    if token.revoked_at is not None:
        return "revoked"
    return "live" if token.live(now) else "expired"


def shown(token: ApiToken, *, now: datetime) -> dict[str, Any]:
    """A token's record as ``-o json`` shows it (its fields and its state; no hash exists)."""
    from controller.cli.output import to_plain

    return {**to_plain(token), "state": state(token, now)}


def _row(token: ApiToken, now: datetime) -> list[object]:
    expires = token.expires_at
    return [
        token.name,
        token.role,
        token.stacks or "*",
        token.owner,
        age(token.created_at, now=now),
        timestamp(expires)[:16] + "Z" if expires is not None else "never",
        age(token.last_used_at, now=now) if token.last_used_at else "never",
        state(token, now),
    ]


@token_app.command("revoke")
def revoke(
    name: str = typer.Argument(..., help="The token's name."),
    db: Path | None = DB_OPTION,
) -> None:
    """Revoke a token: every request with it is refused from now on.

    Its record stays (the audit log names it); its name may be given to a new token."""
    from controller.cli.local_actor import local_actor
    from controller.commands import tokens
    from controller.models.errors import NotFoundError

    with open_database(db) as database:
        try:
            tokens.revoke(database, local_actor(), name)
        except NotFoundError as e:
            raise fail(str(e)) from e
    typer.echo(f"token {name} revoked")
