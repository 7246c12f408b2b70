"""``stackctl login --server URL``, ``logout --server URL`` and ``whoami``.

``login`` reads a token (``--token-file FILE``, else a line on stdin: typed at a prompt that
does not echo it, or piped), asks the server who it is (``GET /api/v1/whoami``) and stores it
for that server only once the server has said so (``credentials.py``: 0600). A token the
server takes for nobody (a controller whose authentication is off) is not stored: there would
be nothing to log in to. ``logout`` forgets the server's token (the token itself stays valid
until an admin revokes it: ``stackctl token revoke``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from controller.cli.plain_io import echo
from controller.cli.remote.client import Client, RemoteError
from controller.cli.remote.credentials import forget, read_token_file, store

Add = Callable[..., argparse.ArgumentParser]


def add_commands(add: Add) -> None:
    add("login", login, "Check a token with the server and keep it for later commands.")
    add("logout", logout, "Forget the token kept for the server.")
    add("whoami", whoami, "Who the server takes you for, and what you may do.")


def _read_token(session: Any) -> str:
    if session.token_file is not None:
        return read_token_file(session.token_file)
    if sys.stdin is not None and sys.stdin.isatty():
        import getpass

        token = getpass.getpass(f"Token for {session.client.server}: ")
    else:
        token = sys.stdin.readline() if sys.stdin is not None else ""
    token = token.strip()
    if not token:
        raise RemoteError("no token given (--token-file FILE, or type it when asked)", code=2)
    return token


def login(session: Any, _: argparse.Namespace) -> int:
    server = session.client.server
    token = _read_token(session)
    try:
        who = Client(server, token).get("/whoami")
    except RemoteError as e:
        if e.status == 401:
            raise RemoteError(f"the server refused the token: {e.message.split(';')[0]}") from None
        raise
    if who.get("kind") == "anonymous":
        raise RemoteError(
            f"{server} takes the token for nobody: its authentication is off (no API token"
            " set), so there is nothing to log in to"
        )
    path = store(session.environ, server, token)
    echo(f"logged in to {server} as {_identity(who)} (token kept in {path})")
    return 0


def logout(session: Any, _: argparse.Namespace) -> int:
    server = session.client.server
    if forget(session.environ, server):
        echo(f"logged out of {server}")
    else:
        echo(f"no token was kept for {server}")
    return 0


def _identity(who: dict[str, Any]) -> str:
    """``alice with token laptop (operator on team=shop)``, ``admin token (admin)``."""
    name, via = str(who.get("name")), who.get("via")
    grants = ", ".join(who.get("grants") or []) or "no role"
    shown = f"{name} with token {via}" if via and via not in name else name
    return f"{shown} ({grants})"


def whoami(session: Any, _: argparse.Namespace) -> int:
    who = session.client.get("/whoami")
    if session.output != "table":
        from controller.cli.remote.reads import print_data

        print_data(who, session.output)
        return 0
    fields = [
        ("Name", who.get("name")),
        ("Kind", who.get("kind")),
        ("Token", who.get("via") or "-"),
        ("Groups", ", ".join(who.get("groups") or []) or "-"),
        ("Grants", ", ".join(who.get("grants") or []) or "none"),
        ("Server", session.client.server),
    ]
    for label, value in fields:
        echo(f"{label + ':':<8}{value}")
    return 0
