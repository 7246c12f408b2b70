"""``stackctl login --server URL`` checks the token with the server (``/api/v1/whoami``) and
only then keeps it, in ``$XDG_CONFIG_HOME/stackctl/credentials.json`` (0600, its folder 0700),
for that server; later commands send it without being told; ``--token-file`` and
``STACKCTL_TOKEN`` win over it; ``logout`` forgets it. A token the server refuses, or takes for
nobody (no authentication there), is not kept."""

from __future__ import annotations

import json
import stat

from helpers.remote import ADMIN_TOKEN


def credentials(cli):
    return cli.home / ".config" / "stackctl" / "credentials.json"


def test_login_checks_keeps_and_logout_forgets(seeded, serve, cli, tmp_path):
    url = serve()
    token_file = tmp_path / "token"
    token_file.write_text(ADMIN_TOKEN + "\n")
    logged = cli.run("login", "--server", url, "--token-file", str(token_file))
    assert logged.returncode == 0, logged.stderr
    assert logged.stdout == (
        f"logged in to {url} as admin token (admin) (token kept in {credentials(cli)})\n"
    )
    path = credentials(cli)
    assert json.loads(path.read_text()) == {url: ADMIN_TOKEN}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    listed = cli.run("--server", url + "/", "get", "stacks", "-o", "name")  # the same server
    assert listed.stdout == "stack/blog\nstack/shop\n", listed.stderr
    overridden = cli.run("--server", url, "get", "stacks", env={"STACKCTL_TOKEN": "wrong"})
    assert overridden.returncode == 1  # the variable wins over what login kept
    assert cli.run("logout", "--server", url).stdout == f"logged out of {url}\n"
    assert json.loads(path.read_text()) == {}
    assert cli.run("--server", url, "get", "stacks").returncode == 1


def test_a_token_typed_on_stdin(seeded, serve, cli):
    url = serve()
    logged = cli.run("login", "--server", url, stdin=ADMIN_TOKEN + "\n")
    assert logged.returncode == 0, logged.stderr
    whoami = cli.run("whoami", env={"STACKCTL_SERVER": url})
    assert whoami.stdout.splitlines()[:2] == ["Name:   admin token", "Kind:   admin-token"]


def test_a_refused_token_is_not_kept(seeded, serve, cli):
    url = serve()
    refused = cli.run("login", "--server", url, stdin="not-the-token\n")
    assert refused.returncode == 1
    assert refused.stderr == "error: the server refused the token: invalid bearer token\n"
    assert not credentials(cli).exists()
    open_server = serve(token=None)
    nobody = cli.run("login", "--server", open_server, stdin="anything\n")
    assert nobody.returncode == 1 and "its authentication is off" in nobody.stderr
    assert not credentials(cli).exists()
