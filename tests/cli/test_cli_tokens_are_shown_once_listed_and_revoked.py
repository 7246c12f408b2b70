"""``stackctl token create|list|revoke`` on the local database: the token is printed once, alone
on stdout (stderr says it will not be shown again), and verifies; ``list`` shows its record and
state, never a hash or the token; ``revoke`` ends it at once; bad values are usage errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from controller.cli import app
from controller.cli.app import TOKEN_ACTIONS, token_app
from controller.commands import tokens
from controller.db import Database

runner = CliRunner()


@pytest.fixture
def stackctl(db_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LOGNAME", "ann")

    def invoke(*args: str, code: int = 0):
        result = runner.invoke(app, [*args, "--db", str(db_path)])
        assert result.exit_code == code, result.output
        return result

    return invoke


def test_create_prints_the_token_once_and_list_never_shows_it(stackctl, db_path: Path):
    made = stackctl(
        "token", "create", "--name", "ci", "--role", "operator", "--stacks", "team=shop",
        "--expires", "30d",
    )  # fmt: skip
    text = made.stdout.strip()
    assert re.fullmatch(r"stk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", text)
    assert "only time it is shown" in made.stderr and text not in made.stderr
    with Database(db_path=db_path) as db:
        verified = tokens.verify(db, text)
        assert verified is not None and (verified.role, verified.stacks) == (
            "operator",
            "team=shop",
        )
        [entry] = db.audit.list().items
        assert (entry.who, entry.action, entry.surface) == ("local:ann", "token.create", "cli")
    listed = stackctl("token", "list").stdout
    header, row = listed.splitlines()
    assert header.split() == [
        "NAME", "ROLE", "STACKS", "OWNER", "CREATED", "EXPIRES", "LAST", "USED", "STATE",
    ]  # fmt: skip
    assert row.split()[:4] == ["ci", "operator", "team=shop", "-"] and row.split()[-1] == "live"
    as_json = stackctl("token", "list", "-o", "json").stdout
    secret = text[len("stk_") + 17 :]
    assert secret not in listed + as_json and "argon2" not in as_json
    [record] = json.loads(as_json)
    assert (record["name"], record["owner"], record["state"]) == ("ci", None, "live")
    assert record["created_by"] == "local:ann" and record["last_used_at"] is not None


def test_json_gives_the_token_beside_its_record(stackctl):
    args = ["--name", "alice-laptop", "--role", "viewer", "--owner", "alice", "-o", "json"]
    made = json.loads(stackctl("token", "create", *args).stdout)
    assert made["token"].startswith("stk_") and made["owner"] == "alice"
    assert (made["expires_at"], made["state"]) == (None, "live")


def test_revoke_ends_it_at_once_and_list_all_shows_it(stackctl, db_path: Path):
    text = stackctl("token", "create", "--name", "ci", "--role", "admin").stdout.strip()
    with Database(db_path=db_path) as controller:  # a controller that verified it before
        assert tokens.verify(controller, text) is not None
        assert stackctl("token", "revoke", "ci").stdout == "token ci revoked\n"
        assert tokens.verify(controller, text) is None
    assert "(none)" in stackctl("token", "list").stdout
    [row] = stackctl("token", "list", "--all").stdout.splitlines()[1:]
    assert row.split()[0] == "ci" and row.split()[-1] == "revoked"
    again = stackctl("token", "revoke", "ci", code=1)
    assert "error: no live token named 'ci'" in again.output


def test_a_taken_name_is_one_error_line(stackctl):
    stackctl("token", "create", "--name", "ci", "--role", "viewer")
    taken = stackctl("token", "create", "--name", "ci", "--role", "viewer", code=1)
    assert "error: a live token is already named 'ci'" in taken.output
    assert not re.search(r"stk_[0-9a-f]{16}_", taken.stdout)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--name", "ci", "--role", "root"], "--role"),
        (["--name", "ci", "--role", "viewer", "--expires", "30"], "is not a duration"),
        (["--name", "ci", "--role", "viewer", "--expires", "0d"], "no time at all"),
        (["--name", "ci", "--role", "viewer", "--stacks", "shop,,x"], "empty item"),
        (["--name", "c i", "--role", "viewer"], "token name"),
    ],
    ids=["role", "expires without a unit", "expires zero", "stacks", "name"],
)
def test_a_bad_value_is_a_usage_error_and_makes_nothing(stackctl, db_path: Path, args, said):
    refused = runner.invoke(app, ["token", "create", *args, "--db", str(db_path)])
    assert refused.exit_code == 2 and said in " ".join(refused.output.split())
    with Database(db_path=db_path) as db:
        assert db.api_tokens.list(include_revoked=True) == [] and db.audit.list().items == []


def test_the_token_actions_table_is_their_docstrings():
    """``stackctl token --help`` lists them from ``TOKEN_ACTIONS`` without loading them."""
    import inspect

    from typer.main import get_command

    __import__(TOKEN_ACTIONS["create"].module)
    group = get_command(token_app)
    helps = {
        name: inspect.cleandoc(command.help or "").split("\n\n")[0].strip()
        for name, command in group.commands.items()
    }
    assert helps == {name: lazy.help for name, lazy in TOKEN_ACTIONS.items()}
