"""Each way a remote command can fail is one ``error:`` line saying what to do, and exit 1: a
missing or wrong token (log in), writes off on a controller without authentication (403), a
server that does not answer; a command of this machine only (``run``, ``validate``...) or a
local ``--db`` with ``--server`` is refused before anything is sent (exit 2)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.remote import ADMIN_TOKEN


def test_no_token_and_a_wrong_one_say_to_log_in(seeded, serve, cli):
    url = serve()
    missing = cli.run("--server", url, "get", "stacks")
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr == (
        "error: missing bearer token: send `Authorization: Bearer <token>`; log in with"
        f" `stackctl login --server {url}` (or give --token-file FILE or STACKCTL_TOKEN)\n"
    )
    wrong = cli.run("--server", url, "sync", "shop", env={"STACKCTL_TOKEN": "not-it"})
    assert wrong.returncode == 1
    assert wrong.stderr.startswith("error: invalid bearer token; log in with `stackctl login")


def test_writes_off_is_a_403_saying_so(seeded, serve, cli):
    url = serve(token=None)  # no authentication: reads open, writes off
    assert cli.run("--server", url, "get", "stacks").returncode == 0
    refused = cli.run("--server", url, "suspend", "shop")
    assert refused.returncode == 1
    assert refused.stderr.startswith(
        "error: not allowed: write endpoints are disabled: set STACKCTL_API_TOKEN"
    )


def test_a_server_that_does_not_answer(cli):
    with socket.socket() as taken:  # a port nobody listens on
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
    found = cli.run("--server", f"http://127.0.0.1:{port}", "get", "stacks")
    assert found.returncode == 1
    assert found.stderr == (
        f"error: the server http://127.0.0.1:{port} does not answer: connection refused: is"
        " `stackctl run` serving its API there?\n"
    )


LOCAL_ONLY = [["run"], ["validate", "."], ["delete", "shop"], ["command-logs", "1"], ["version"]]


@pytest.mark.parametrize("args", LOCAL_ONLY, ids=[a[0] for a in LOCAL_ONLY])
def test_a_command_of_this_machine_is_refused_with_server(args, cli):
    found = cli.run("--server", "http://127.0.0.1:9", *args)
    assert found.returncode == 2
    assert found.stderr.startswith(f"error: `stackctl {args[0]}` ")
    assert found.stderr.endswith("it does not talk to a controller; drop --server\n")


def test_with_the_variable_alone_validate_runs_here(cli, tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    env = {"STACKCTL_SERVER": "http://127.0.0.1:9"}
    assert cli.run("validate", str(folder), env=env).returncode == 0  # nothing to validate
    refused = cli.run("run", env=env)
    assert refused.returncode == 2 and refused.stderr.endswith("unset STACKCTL_SERVER\n")


def test_a_local_database_or_a_bad_url_is_a_usage_error(cli, tmp_path):
    db = cli.run("--server", "http://127.0.0.1:9", "--db", str(tmp_path / "x.db"), "get", "stacks")
    assert db.returncode == 2
    assert "--db names a database here" in db.stderr
    url = cli.run("--server", "ftp://host", "get", "stacks", env={"STACKCTL_TOKEN": ADMIN_TOKEN})
    assert url.returncode == 2 and "give the controller's URL, http://HOST:PORT" in url.stderr
    usage = cli.run("--server", "http://127.0.0.1:9", "get", "nothing")
    assert usage.returncode == 2 and "invalid choice" in usage.stderr


def test_shell_completion_stays_typers_with_the_variable_set(cli):
    stackctl = Path(sys.executable).with_name("stackctl")
    env = cli.environ(
        {
            "STACKCTL_SERVER": "http://127.0.0.1:9",
            "_STACKCTL_COMPLETE": "complete_bash",
            "COMP_WORDS": "stackctl ge",
            "COMP_CWORD": "1",
        }
    )
    found = subprocess.run([str(stackctl)], capture_output=True, text=True, env=env, timeout=60)
    assert (found.returncode, found.stdout) == (0, "get\n"), found.stderr
