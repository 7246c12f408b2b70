"""Ids and cursors from outside: one beyond SQLite's 64-bit integers, negative, non-numeric or
base64 garbage is 404 or 422 on every id and cursor endpoint, never 500 (a huge id used to
reach SQLite and overflow). The CLI says ``error:`` once and exits 1."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.seeding import Seeded

from controller.db import Database, InvalidCursorError
from controller.db.rows import MAX_ID, decode_cursor, encode_cursor


@pytest.fixture
def client(make_client):
    return make_client(token=None)  # no token configured: the reads are open


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


ODD_IDS = [
    "9223372036854775808",  # 2**63: the first integer SQLite cannot hold
    "9223372036854775807",  # the largest it can: simply not found
    "99999999999999999999999",
    "9" * 5000,
    "-1",
    "-9223372036854775809",
    "0",
    "1e3",
    "0x10",
    "abc",
    "%00",
    "1.5",
    "١٢",  # Arabic-Indic digits
]
ODD_CURSORS = [
    cursor_of("id:9223372036854775808"),
    cursor_of("id:99999999999999999999999"),
    cursor_of("id:-1"),
    cursor_of("id:" + "9" * 5000),
    cursor_of("id:١٢"),
    cursor_of("id:"),
    cursor_of("x:1"),
    "!!!!",
    "=",
    "%ff%fe",
    base64.urlsafe_b64encode(bytes(range(256))).decode(),
    "a" * 10000,
]


@pytest.mark.parametrize("odd", ODD_IDS)
@pytest.mark.parametrize("path", ["/api/v1/commands/{}", "/api/v1/commands/{}/logs"])
def test_odd_command_ids(client, seeded: Seeded, path: str, odd: str) -> None:
    response = client.get(path.format(odd))
    assert response.status_code in (404, 422), (odd, response.status_code, response.text)
    assert "message" in response.json()


@pytest.mark.parametrize("odd", ODD_IDS)
def test_odd_log_positions(client, seeded: Seeded, odd: str) -> None:
    command_id = seeded.failed.command_id
    response = client.get(f"/api/v1/commands/{command_id}/logs?after={odd}")
    assert response.status_code in (200, 422), (odd, response.status_code, response.text)


@pytest.mark.parametrize("odd", ODD_CURSORS)
@pytest.mark.parametrize(
    "path", ["/api/v1/commands", "/api/v1/events", "/api/v1/stacks/shop/versions"]
)
def test_odd_cursors_are_422(client, seeded: Seeded, path: str, odd: str) -> None:
    response = client.get(path, params={"cursor": odd})
    assert response.status_code == 422, (odd, response.status_code, response.text)


def test_cursor_decoding_keeps_to_sqlite_integers() -> None:
    assert decode_cursor(encode_cursor(MAX_ID)) == MAX_ID
    with pytest.raises(InvalidCursorError):
        decode_cursor(encode_cursor(MAX_ID + 1))


def test_repositories_answer_not_found_for_ids_beyond_sqlite(db: Database) -> None:
    assert db.commands.get(2**63) is None
    assert db.commands.get(-(2**70)) is None
    assert db.command_logs.list(2**64) == []
    assert db.command_logs.list(1, after_id=2**80) == []
    with pytest.raises(InvalidCursorError):
        db.commands.list(cursor=encode_cursor(2**63))
    with pytest.raises(InvalidCursorError):
        db.events.list(cursor=encode_cursor(2**63))


@pytest.mark.parametrize("odd", ["99999999999999999999999", "9223372036854775808"])
def test_cli_command_logs_of_an_id_beyond_sqlite_is_one_error_line(
    db: Database, db_path: Path, odd: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "controller", "command-logs", odd, "--db", str(db_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip() == f"error: no command {odd}"


def test_cli_get_commands_with_a_cursor_beyond_sqlite(db: Database, db_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "controller", "get", "commands", "--cursor",
         encode_cursor(2**63), "--db", str(db_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("error: invalid cursor") and "Traceback" not in result.stderr
