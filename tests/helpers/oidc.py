"""A real OpenID provider for the tests: panva's ``oidc-provider`` (certified) under Node.js.

``OidcProvider`` installs the provider's node modules once (``scripts/oidc-provider.sh
--modules``: ``npm ci`` into build/oidc-provider/ when the pinned lock changed; a hash compare
when not), starts ``node provider.mjs`` (tests/helpers/oidc_provider/) on a free port of
127.0.0.1, waits until its discovery document answers, and, as a context manager, stops it by
its process group and removes its folder (the client secret file, the log) whatever happened.

Its issuer is ``http://localhost:PORT``: another *site* than the console under test at
``http://127.0.0.1:CONSOLE_PORT`` (cookies' ``SameSite`` rules apply as with a real provider).
The client is registered for the console at ``console_url`` (a port free at start, which the
test gives its console: ``app_options()`` / ``run_flags()``), with the redirect URI
``console_url/ui/auth/callback`` and the post-logout redirect URI ``console_url/``.

Users (``USERS``; ``users=`` for others): alice (groups ["ops"]), bob (none), carol
(["admins"]); each one's password is ``password(name)``. The scopes ``SCOPES`` ask for the
groups claim (released through userinfo).

    with OidcProvider(tmp_path) as provider:             # or the `oidc_provider` fixture
        app = create_app(db_path=..., **provider.app_options())  # serve it on console_port
        provider.sign_in(page, "alice")                  # Playwright, the real login page
        provider.sign_in_over_http(client, "bob")        # httpx, the same pages, no browser

A provider that cannot start (no node, no modules, exits) is ``OidcProviderUnavailable`` with
the command that installs it: the fixture skips with it, and fails in CI.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from helpers.processes import stop_group

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from controller.config.oidc import OidcConfig

REPO = Path(__file__).resolve().parents[2]
SOURCE = Path(__file__).resolve().parent / "oidc_provider"
INSTALLED = REPO / "build" / "oidc-provider"
SCRIPT = REPO / "scripts" / "oidc-provider.sh"
INSTALL_HINT = "run `bash scripts/oidc-provider.sh` (as root when node/npm are missing)"
SCOPES = "openid profile email groups"
START_SECONDS = 30.0


@dataclass(frozen=True)
class OidcUser:
    """A person the provider knows: their name (``sub``, ``preferred_username``), password
    and groups; ``claims`` more claims (one named ``preferred_username`` replaces it)."""

    name: str
    groups: tuple[str, ...] = ()
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def password(self) -> str:
        return f"{self.name}-password"


USERS = {
    "alice": OidcUser("alice", ("ops",)),
    "bob": OidcUser("bob"),
    "carol": OidcUser("carol", ("admins",)),
}


class OidcProviderUnavailable(RuntimeError):
    """Node, npm or the provider's modules are missing, or it does not start (why)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def install_modules() -> None:
    """The provider's node modules, installed when missing or stale (fast when current)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise OidcProviderUnavailable(f"no node/npm on PATH; {INSTALL_HINT}")
    done = subprocess.run(
        ["bash", str(SCRIPT), "--modules"], capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        why = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["failed"]
        raise OidcProviderUnavailable(f"{why[0]}; {INSTALL_HINT}")


class OidcProvider:
    """``node provider.mjs`` on ``127.0.0.1:port`` (see the module's docstring)."""

    def __init__(
        self,
        tmp: Path,
        *,
        users: dict[str, OidcUser] | None = None,
        client_id: str = "stackctl",
        console_port: int | None = None,
    ) -> None:
        self.users = dict(USERS if users is None else users)
        self.client_id = client_id
        self.client_secret = "oidc-client-" + os.urandom(8).hex()
        self.home = Path(tempfile.mkdtemp(prefix="oidc-provider-", dir=tmp))
        self.secret_file = self.home / "client-secret"
        self.log = self.home / "provider.log"
        self.port = free_port()
        self.console_port = console_port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    # What a test gives the console under test -------------------------------------------

    @property
    def issuer(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def console_url(self) -> str:
        """Where the console under test must be served (its client is registered there)."""
        return f"http://127.0.0.1:{self.console_port}"

    @property
    def redirect_uri(self) -> str:
        return self.console_url + "/ui/auth/callback"

    def settings(self) -> dict[str, str]:
        """The ``oidc_*`` settings of a controller signing people in here."""
        return {
            "oidc_issuer": self.issuer,
            "oidc_client_id": self.client_id,
            "oidc_client_secret_file": str(self.secret_file),
            "oidc_scopes": SCOPES,
        }

    def run_flags(self) -> tuple[str, ...]:
        """``stackctl run``'s flags for it: the settings and ``--api`` on ``console_port``."""
        flags = [f"--{name.replace('_', '-')}={value}" for name, value in self.settings().items()]
        return (*flags, "--api", f"127.0.0.1:{self.console_port}")

    def config(self) -> OidcConfig:
        from controller.config.oidc import OidcConfig

        return OidcConfig(self.issuer, self.client_id, self.client_secret, scopes=SCOPES)

    def app_options(self) -> dict[str, Any]:
        """``create_app``'s options for it (serve that app on ``console_port``)."""
        return {"oidc": self.config(), "public_url": self.console_url}

    def password(self, name: str) -> str:
        return self.users[name].password

    # Life ------------------------------------------------------------------------------

    def __enter__(self) -> OidcProvider:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        install_modules()
        script = INSTALLED / "provider.mjs"
        shutil.copyfile(SOURCE / "provider.mjs", script)  # beside its node_modules
        self.secret_file.write_text(self.client_secret + "\n")
        environment = {
            **os.environ,
            "OIDC_PORT": str(self.port),
            "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": self.client_id,
            "OIDC_CLIENT_SECRET": self.client_secret,
            "OIDC_REDIRECT_URIS": self.redirect_uri,
            "OIDC_POST_LOGOUT_REDIRECT_URIS": self.console_url + "/",
            "OIDC_USERS": json.dumps(self._users_json()),
        }
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                ["node", str(script)],
                cwd=INSTALLED,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_for_discovery()

    def stop(self) -> None:
        """Stop node (its process group, by id) and remove the folder; safe to call twice."""
        if self.proc is not None and self.proc.poll() is None:
            stop_group(self.proc)
        shutil.rmtree(self.home, ignore_errors=True)

    def _users_json(self) -> dict[str, Any]:
        return {
            user.name: {**user.claims, "password": user.password, "groups": list(user.groups)}
            for user in self.users.values()
        }

    def _wait_for_discovery(self) -> None:
        url = self.issuer + "/.well-known/openid-configuration"
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise OidcProviderUnavailable(
                    f"node exited ({self.proc.returncode}): {self._tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise OidcProviderUnavailable(
            f"no discovery at {url} after {START_SECONDS}s: {self._tail()}"
        )

    def _tail(self) -> str:
        try:
            return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-5:])
        except OSError:
            return "(no log)"

    # A person in a browser -------------------------------------------------------------

    def sign_in(self, page: Page, user: str, *, at: str = "/") -> None:
        """Sign ``user`` in through the provider's real login page, from the console's page
        ``at``: its "Sign in" button, the provider's form, back at ``at`` signed in."""
        from playwright.sync_api import expect

        page.goto(self.console_url + at)
        page.get_by_role("link", name="Sign in").first.click()
        self.log_in_at_provider(page, user)
        expect(page).to_have_url(re.compile(re.escape(self.console_url + at) + r"(\?.*)?$"))
        expect(page.locator("#signed-in-as")).to_have_text(f"Signed in as {user}")

    def log_in_at_provider(self, page: Page, user: str, password: str | None = None) -> None:
        """Fill in and send the provider's login form (the page shows it)."""
        from playwright.sync_api import expect

        expect(page).to_have_url(re.compile("^" + re.escape(self.issuer) + "/interaction/"))
        page.get_by_label("User name").fill(user)
        page.get_by_label("Password").fill(
            password if password is not None else self.password(user)
        )
        page.get_by_role("button", name="Sign in").click()

    # A person without a browser (httpx) ----------------------------------------------

    def sign_in_over_http(
        self, console: httpx.Client, user: str, *, at: str = "/"
    ) -> httpx.Response:
        """Sign ``user`` in as a browser would, with ``console`` (an ``httpx.Client`` on
        ``console_url``, keeping its cookies): the console's answer to the callback (200, the
        session cookie now in ``console.cookies``)."""
        callback = self.log_in_over_http(start_sign_in(console, at), user)
        return console.get(callback)

    def log_in_over_http(self, authorize: str, user: str) -> str:
        """The provider's login page filled in as a person does, from the console's redirect
        to ``authorize``: the URL it sends the browser back to (the console's callback with a
        code and the state), not followed."""
        with httpx.Client(timeout=15) as browser:
            answer = browser.get(authorize)
            while answer.is_redirect and "/interaction/" not in str(answer.url):
                answer = browser.get(answer.url.join(answer.headers["location"]))
            action = re.search(r'action="(/interaction/[^"]+/login)"', answer.text)
            assert answer.status_code == 200 and action is not None, answer.text
            form = {"username": user, "password": self.password(user)}
            answer = browser.post(self.issuer + action.group(1), data=form)
            while answer.is_redirect:
                location = str(answer.url.join(answer.headers["location"]))
                if location.startswith(self.redirect_uri):
                    return location
                answer = browser.get(location)
        raise AssertionError(f"the provider did not send the browser back: {answer.status_code}")


def start_sign_in(console: httpx.Client, at: str = "/") -> str:
    """``/ui/login``'s redirect to the provider (the pending sign-in now in the cookies)."""
    answer = console.get("/ui/login", params={"next": at})
    assert answer.status_code == 302, answer.text
    return str(answer.headers["location"])
