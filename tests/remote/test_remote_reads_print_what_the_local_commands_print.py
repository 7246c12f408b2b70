"""Through a controller's API (``--server``), the reads print what the same commands print on
the controller's own database: the same tables (ages aside: a second may pass between the two
runs), ``-o json`` the API's JSON; ``describe`` shows the stack's fields, conditions, last
commands and events, and says why it shows no containers when the API has no engine."""

from __future__ import annotations

import json

import pytest
from helpers.remote import ADMIN_TOKEN, without_ages

SAME = [
    ["get", "stacks"],
    ["get", "stacks", "-o", "wide"],
    ["get", "stacks", "-o", "name"],
    ["get", "stacks", "shop"],
    ["get", "stacks", "--all"],
    ["get", "versions", "shop"],
    ["get", "versions", "shop", "-o", "wide"],
    ["history", "shop"],
    ["history", "blog"],
    ["get", "commands"],
    ["get", "commands", "--stack", "shop", "-o", "wide"],
    ["get", "commands", "--limit", "1"],
]


@pytest.mark.parametrize("args", SAME, ids=[" ".join(a) for a in SAME])
def test_a_read_through_the_api_prints_the_local_table(args, seeded, db_path, serve, cli):
    url = serve()
    local = cli.run(*args, "--db", str(db_path))
    remote = cli.run("--server", url, *args, env={"STACKCTL_TOKEN": ADMIN_TOKEN})
    assert local.returncode == 0, local.stderr
    assert remote.returncode == 0, remote.stderr
    assert without_ages(remote.stdout) == without_ages(local.stdout)
    assert remote.stderr == local.stderr  # `more: --cursor ...` alike


def test_json_is_the_apis_json(seeded, serve, cli):
    url = serve()
    env = {"STACKCTL_SERVER": url, "STACKCTL_TOKEN": ADMIN_TOKEN}
    stacks = json.loads(cli.run("get", "stacks", "-o", "json", env=env).stdout)
    assert [(s["name"], s["current_version"], s["engine"]) for s in stacks] == [
        ("blog", "v1", "local"),
        ("shop", "v2", "local"),
    ]
    versions = json.loads(cli.run("-o", "json", "history", "shop", env=env).stdout)
    assert [(v["version"], v["applied"], v["current"]) for v in versions] == [
        ("v1", False, False),
        ("v2", True, True),
    ]
    commands = json.loads(
        cli.run("get", "commands", "--stack", "shop", "-o", "json", env=env).stdout
    )
    assert [c["status"] for c in commands] == ["FAILED", "DONE"]


def test_describe_shows_the_stack_and_says_why_no_containers(seeded, serve, cli):
    url = serve()
    found = cli.run("describe", "shop", "--server", url, env={"STACKCTL_TOKEN": ADMIN_TOKEN})
    assert found.returncode == 0, found.stderr
    lines = found.stdout.splitlines()
    assert lines[0] == "Name:       shop"
    assert "Desired:    v2 (latest recorded: v2)" in lines
    assert "Engine:     local" in lines
    assert any(line.startswith("  Synced            True") for line in lines)
    assert "Services: the controller cannot say: this API has no engine behind it" in found.stdout
    assert "port 8080 is already allocated" in found.stdout  # the last commands
    assert "ManifestInvalid" in found.stdout  # the recent events


def test_an_unknown_stack_is_the_servers_message_and_exit_1(seeded, serve, cli):
    url = serve()
    found = cli.run("--server", url, "history", "nope", env={"STACKCTL_TOKEN": ADMIN_TOKEN})
    assert found.returncode == 1
    assert found.stderr == "error: no stack named 'nope'\n"
    assert found.stdout == ""
