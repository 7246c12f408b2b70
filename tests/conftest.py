"""Shared pytest fixtures.

Sections are delimited; keep each owner's fixtures inside its own section.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from helpers.seeding import Seeded, seed

from controller.db import Database

# ======================================================================================
# Engine fixtures (real Docker engine).  Owner: engine test infrastructure.
#
#   @pytest.mark.engine           a test that needs the engine.  Added by itself to every test
#                                 that uses one of the fixtures below, directly or through
#                                 another fixture (pytest_collection_modifyitems), so
#                                 `pytest -m "not engine"` never runs one.  An engine test skips
#                                 with a visible reason when no engine answers or the test
#                                 images are missing, and FAILS instead when
#                                 STACKCTL_REQUIRE_DOCKER=1 (as in CI).  Every other test runs
#                                 with DOCKER_HOST set to NO_ENGINE, a socket that does not
#                                 exist: one that reaches the engine some other way fails
#                                 everywhere, instead of passing where an engine runs.
#   docker_client   (session)     docker.DockerClient from the environment (DOCKER_HOST...).
#   test_images     (session)     EngineTestImages(v1="stackctl-test/busybox:1", v2=":2"):
#                                 two local images (static busybox) with different content:
#                                 /etc/stackctl-image holds "1" / "2", /www/index.html differs.
#                                 Reference them with pull_policy never/missing: no registry.
#   engine_janitor  (function)    EngineJanitor: a unique stack-name prefix per test
#                                 (`t` + 8 hex, e.g. "t3f9a0c1e"); at teardown, whatever
#                                 happened, removes every container, network and volume whose
#                                 `com.docker.compose.project` label or whose name starts with
#                                 that prefix, plus anything registered with .register().
#                                 Name every stack of the test with .project("web") ->
#                                 "t3f9a0c1e-web" (or .prefix alone).
#   engine_janitor_factory        callable(prefix=None) -> a new EngineJanitor that the caller
#                   (function)    cleans up itself (.cleanup() -> list of problems, [] = ok);
#                                 .leftovers() lists what exists with a given prefix.
#   free_port       (function)    a TCP port free on 127.0.0.1 right now (int).
#   tls_engine      (session)     helpers.dockerd.ExtraDockerd: a second dockerd of its own
#                                 (data root, bridge stkbrXXXX on a free /24 of 172.31.240/20) on
#                                 .host "tcp://127.0.0.1:PORT" with --tlsverify (.ca, .cert,
#                                 .key from openssl) and on .socket (unix, for inspection);
#                                 holds the test images; .client() over TLS, .kill()/.start().
#                                 Removed whatever happened at the end of the session.
#   swarm_engine    (session)     helpers.swarm.SwarmDockerd: the same kind of second dockerd
#                                 (its own bridge and /24, TLS .host, .socket, .client(),
#                                 the test images), manager of a single-node swarm of its own
#                                 (`swarm init` on its socket, never the main engine's).  No
#                                 IPVS here: services use EndpointSpec(mode="dnsrr"); reach
#                                 tasks with helpers.swarm.exec_in_task (host-mode ports bind
#                                 0.0.0.0).  Services, secrets, configs, networks and the swarm
#                                 are removed whatever happened at the end of the session.
#   ssh_engine_server (function)  helpers.git_servers.SshServer: sshd on 127.0.0.1:.port, as
#                                 .user, its own host key (.known_hosts lists it), .client_key
#                                 authorized; ssh://.user@127.0.0.1:.port reaches the machine's
#                                 engine through `docker system dial-stdio`.  Stopped by pid
#                                 and its folder removed whatever happened.
#
# Don't `from conftest import ...` in tests: tests/db/ has a conftest too, so the name is
# ambiguous; everything is reachable through the fixtures.
#
# Set the engine up with `bash scripts/engine.sh` (or `make engine`).  Inside the images use
# `timeout N wget ...`, never `wget -T N` (Debian's static busybox 1.35 segfaults on -T).
# ======================================================================================

ENGINE_SETUP_HINT = "run scripts/engine.sh (or `make engine`) as root"
COMPOSE_PROJECT_LABEL = "com.docker.compose.project"
ENGINE_FIXTURES = frozenset(
    {
        "docker_client",
        "test_images",
        "engine_janitor",
        "engine_janitor_factory",
        "tls_engine",
        "swarm_engine",
        "ssh_engine_server",
    }
)
#: DOCKER_HOST of the tests not marked `engine`: the path says why nothing answers there.
NO_ENGINE = "unix:///nonexistent/test-not-marked-engine/docker.sock"


@dataclass(frozen=True)
class EngineTestImages:
    """The two locally built test images (see scripts/engine.sh)."""

    v1: str = "stackctl-test/busybox:1"
    v2: str = "stackctl-test/busybox:2"
    #: file whose content is the image's version ("1" / "2")
    version_file: str = "/etc/stackctl-image"
    #: document root for `httpd -f -p 8080 -h /www`; index.html differs between versions
    www_root: str = "/www"

    @property
    def all(self) -> tuple[str, str]:
        return (self.v1, self.v2)


def _docker_required() -> bool:
    return os.environ.get("STACKCTL_REQUIRE_DOCKER", "").strip().lower() in {"1", "true", "yes"}


def _engine_unavailable(reason: str) -> None:
    """Skip, or fail when the run requires the engine (STACKCTL_REQUIRE_DOCKER=1)."""
    if _docker_required():
        pytest.fail(
            f"{reason} (STACKCTL_REQUIRE_DOCKER=1, so this fails instead of skipping)",
            pytrace=False,
        )
    pytest.skip(reason)


_engine_probe: dict[str, str | None] = {}


def _engine_problem() -> str | None:
    """Why the engine tests cannot run (cached for the session), or None."""
    if "problem" not in _engine_probe:
        _engine_probe["problem"] = _probe_engine()
    return _engine_probe["problem"]


def _probe_engine() -> str | None:
    try:
        import docker
        import docker.errors
    except ImportError as exc:  # pragma: no cover - docker is a runtime dependency
        return f"Docker engine not reachable: no docker SDK ({exc}); pip install -e ."
    try:
        probe = docker.from_env(timeout=10)
        probe.ping()
    except Exception as exc:
        where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        return f"Docker engine not reachable at {where} ({_cause(exc)}); {ENGINE_SETUP_HINT}"
    try:
        images = EngineTestImages()
        for tag in images.all:
            try:
                probe.images.get(tag)
            except docker.errors.ImageNotFound:
                return f"test image {tag} is missing; {ENGINE_SETUP_HINT}"
    except Exception as exc:
        return f"Docker engine answers but listing images failed: {_short(exc)}"
    finally:
        probe.close()
    return None


def _cause(exc: BaseException) -> str:
    """The root of a connection error ("[Errno 111] Connection refused"), else its text."""
    found = re.search(r"\[Errno -?\d+\] [^'\")(]+", str(exc))
    return found.group(0).strip() if found else _short(exc)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."


def pytest_configure(config: pytest.Config) -> None:
    """Register `engine` where pyproject.toml does not (a child pytest loading this file)."""
    if not any(line.startswith("engine:") for line in config.getini("markers")):
        config.addinivalue_line("markers", "engine: needs a real Docker engine")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `engine` every test that uses an engine fixture: ``fixturenames`` is the closure,
    so a fixture built on one (a harness on ``engine_janitor``) counts too."""
    for item in items:
        if ENGINE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.engine)
        if BROWSER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
    # Browser tests last: the session's Playwright makes asyncio see a running loop in the
    # main thread (asyncio.run() refuses) until the end of the session (helpers/browser.py).
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(autouse=True)
def _engine_gate(request: pytest.FixtureRequest) -> Iterator[None]:
    """Skip (or fail) engine tests before any of their fixtures touch the engine; give every
    other test (and what it starts) a DOCKER_HOST where no engine answers."""
    wants_engine = request.node.get_closest_marker("engine") is not None or bool(
        ENGINE_FIXTURES.intersection(request.fixturenames)
    )
    if wants_engine:
        problem = _engine_problem()
        if problem is not None:
            _engine_unavailable(problem)
        yield
        return
    saved = os.environ.get("DOCKER_HOST")
    os.environ["DOCKER_HOST"] = NO_ENGINE
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("DOCKER_HOST", None)
        else:
            os.environ["DOCKER_HOST"] = saved


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """A docker.DockerClient for the engine of the environment (API version negotiated)."""
    problem = _engine_problem()
    if problem is not None:
        _engine_unavailable(problem)
    import docker

    client = docker.from_env(timeout=120)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def test_images(docker_client: Any) -> EngineTestImages:
    """The tags of the two local test images (present: checked by the engine gate)."""
    return EngineTestImages()


def free_tcp_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now (the OS picks it)."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def free_port() -> int:
    """A TCP port free on 127.0.0.1 (publish with `127.0.0.1:{free_port}:8080`)."""
    return free_tcp_port()


@dataclass
class EngineJanitor:
    """Removes what a test created on the engine, found by label/name prefix or registration.

    Everything whose ``com.docker.compose.project`` label, or whose name, starts with
    ``prefix`` is the test's: containers are force-removed (with their anonymous volumes),
    then networks, then volumes.  Objects created without that convention can be handed to
    ``register()``.
    """

    client: Any
    prefix: str = field(default_factory=lambda: "t" + secrets.token_hex(4))
    _registered: dict[str, list[str]] = field(
        default_factory=lambda: {"container": [], "network": [], "volume": [], "image": []}
    )

    # -- naming -------------------------------------------------------------------------
    def project(self, suffix: str = "") -> str:
        """A stack/project name owned by this test: ``prefix`` or ``prefix-suffix``."""
        return f"{self.prefix}-{suffix}" if suffix else self.prefix

    def labels(self, suffix: str = "", **extra: str) -> dict[str, str]:
        """Labels putting an object into this test's project ``project(suffix)``."""
        return {COMPOSE_PROJECT_LABEL: self.project(suffix), **extra}

    # -- explicit registration ------------------------------------------------------------
    def register(self, obj: Any, kind: str | None = None) -> Any:
        """Remove ``obj`` at teardown too: an SDK Container/Network/Volume/Image, or an id or
        name together with ``kind`` ("container", "network", "volume", "image")."""
        if kind is None:
            kind = type(obj).__name__.lower()
        if kind not in self._registered:
            raise ValueError(f"cannot register {kind!r}: kind= container/network/volume/image")
        ident = obj if isinstance(obj, str) else (getattr(obj, "id", None) or obj.name)
        self._registered[kind].append(ident)
        return obj

    # -- finding and removing ------------------------------------------------------------
    def _owned(self, labels: dict[str, str] | None, name: str | None) -> bool:
        project = (labels or {}).get(COMPOSE_PROJECT_LABEL, "")
        return project.startswith(self.prefix) or (name or "").lstrip("/").startswith(self.prefix)

    def leftovers(self) -> dict[str, list[str]]:
        """Names of the containers, networks and volumes of this test that exist now."""
        api = self.client.api
        containers = [
            c["Names"][0].lstrip("/") if c.get("Names") else c["Id"]
            for c in api.containers(all=True)
            if self._owned(c.get("Labels"), (c.get("Names") or [""])[0])
        ]
        networks = [n["Name"] for n in api.networks() if self._owned(n.get("Labels"), n["Name"])]
        volumes = [
            v["Name"]
            for v in (api.volumes().get("Volumes") or [])
            if self._owned(v.get("Labels"), v["Name"])
        ]
        return {"containers": containers, "networks": networks, "volumes": volumes}

    def cleanup(self, attempts: int = 5) -> list[str]:
        """Remove everything of this test; return what could not be removed (empty: all gone)."""
        import docker.errors

        api = self.client.api
        errors: list[str] = []
        for attempt in range(attempts):
            errors = []
            left = self.leftovers()
            containers = left["containers"] + self._registered["container"]
            networks = left["networks"] + self._registered["network"]
            volumes = left["volumes"] + self._registered["volume"]
            images = self._registered["image"]
            for kind, idents, remove in (
                ("container", containers, lambda i: api.remove_container(i, v=True, force=True)),
                ("network", networks, api.remove_network),
                ("volume", volumes, lambda i: api.remove_volume(i, force=True)),
                ("image", images, lambda i: api.remove_image(i, force=True)),
            ):
                for ident in dict.fromkeys(idents):
                    try:
                        remove(ident)
                    except docker.errors.NotFound:
                        pass
                    except docker.errors.APIError as exc:
                        if "removal of container" in str(exc) and "in progress" in str(exc):
                            errors.append(f"{kind} {ident}: removal in progress")
                        else:
                            errors.append(f"{kind} {ident}: {_short(exc)}")
            if not errors and not any(self.leftovers().values()):
                return []
            time.sleep(0.2 * (attempt + 1))
        remaining = self.leftovers()
        return errors + [f"still present: {k} {v}" for k, v in remaining.items() if v]


@pytest.fixture
def engine_janitor(docker_client: Any) -> Iterator[EngineJanitor]:
    """A unique stack-name prefix for this test; removes all its engine objects at teardown."""
    janitor = EngineJanitor(docker_client)
    try:
        yield janitor
    finally:
        problems = janitor.cleanup()
        if problems:
            pytest.fail(
                f"engine_janitor could not remove what test prefix {janitor.prefix} created: "
                + "; ".join(problems),
                pytrace=False,
            )


@pytest.fixture
def engine_janitor_factory(docker_client: Any) -> Callable[..., EngineJanitor]:
    """Make extra janitors (a fresh prefix, or a given one to look at what it owns)."""

    def make(prefix: str | None = None) -> EngineJanitor:
        if prefix is None:
            return EngineJanitor(docker_client)
        return EngineJanitor(docker_client, prefix=prefix)

    return make


@pytest.fixture(scope="session")
def tls_engine(test_images: EngineTestImages) -> Iterator[Any]:
    """A second engine over TLS on 127.0.0.1, with the test images (helpers/dockerd.py)."""
    from helpers.dockerd import ExtraDockerd, ExtraDockerdUnavailable

    engine = ExtraDockerd(images=test_images.all)
    try:
        try:
            engine.setup()
        except ExtraDockerdUnavailable as exc:
            _engine_unavailable(f"the TLS test engine cannot run: {exc}")
        yield engine
    finally:
        problems = engine.close()
        if problems:
            pytest.fail("tls_engine teardown: " + "; ".join(problems), pytrace=False)


@pytest.fixture(scope="session")
def swarm_engine(test_images: EngineTestImages) -> Iterator[Any]:
    """A second engine, manager of a single-node swarm, with the test images (helpers/swarm.py)."""
    from helpers.dockerd import ExtraDockerdUnavailable
    from helpers.swarm import SwarmDockerd

    engine = SwarmDockerd(images=test_images.all)
    try:
        try:
            engine.setup()
        except ExtraDockerdUnavailable as exc:
            _engine_unavailable(f"the Swarm test engine cannot run: {exc}")
        yield engine
    finally:
        problems = engine.close()
        if problems:
            pytest.fail("swarm_engine teardown: " + "; ".join(problems), pytrace=False)


@pytest.fixture
def ssh_engine_server(tmp_path: Path) -> Iterator[Any]:
    """OpenSSH's sshd on 127.0.0.1 (helpers/git_servers.py's ``SshServer``: its own host key,
    an authorized key made for the test), through which ``docker system dial-stdio`` reaches
    the machine's engine: an ``ssh://`` engine. Stopped by pid and removed whatever happened."""
    import shutil

    from helpers.git_servers import SshServer

    if shutil.which("docker") is None:
        _engine_unavailable("the docker CLI is missing (ssh:// runs `docker system dial-stdio`)")
    server = SshServer(tmp_path)
    try:
        server.__enter__()
    except RuntimeError as exc:
        _engine_unavailable(f"the test sshd cannot run: {exc}")
    try:
        yield server
    finally:
        server.__exit__(None, None, None)


# ======================================================================================
# End of engine fixtures.
# ======================================================================================


# ======================================================================================
# Fixtures shared by several test folders (a folder's own fixtures are in its conftest.py).
#
#   root      (function)  an empty folder to watch: tmp_path / "manifests".
#   db_path   (function)  tmp_path / "stackctl.db" (nothing there yet).
#   db        (function)  a Database on db_path, closed afterwards (tests/db/ gives it a clock).
#   seeded    (function)  db holding two stacks as a controller leaves them (helpers.seeding).
# ======================================================================================


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "manifests"
    path.mkdir()
    return path


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "stackctl.db"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    with Database(db_path=db_path) as database:
        yield database


@pytest.fixture
def seeded(db: Database, tmp_path: Path) -> Seeded:
    return seed(db, tmp_path)


# ======================================================================================
# Image registry fixtures (Debian's docker-registry).  Owner: image updates (issue 14).
#
#   registry        (session)   helpers.registry.Registry: `docker-registry serve` on
#                               127.0.0.1:<free port> (.host), its own config and storage in
#                               a temporary folder; stopped by pid and removed at the end of
#                               the session, whatever happened.  It cannot start (not
#                               installed, exits): the test skips with the reason, and FAILS
#                               under STACKCTL_REQUIRE_DOCKER=1 (as in CI).  Install it with
#                               `bash scripts/registry.sh`.  An engine fixture: the test is
#                               marked `engine` through registry_images.
#   registry_images (function)  helpers.registry.RegistryImages for this test: .make(base,
#                               variant) builds the test's own image on a local test image,
#                               .push(image_id, "app:1") pushes it as
#                               <registry>/<janitor prefix>/app:1 and returns the digest; the
#                               test's engine_janitor removes those images (every tag and
#                               digest reference) after its containers.
# ======================================================================================


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from helpers.registry import Registry

    server = Registry(tmp_path_factory.mktemp("registry"))
    try:
        server.start()
    except RuntimeError as exc:
        server.stop()
        _engine_unavailable(f"the test registry cannot run: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def registry_images(registry: Any, engine_janitor: EngineJanitor) -> Any:
    from helpers.registry import RegistryImages

    return RegistryImages(janitor=engine_janitor, registry=registry)


# ======================================================================================
# End of image registry fixtures.
# ======================================================================================


# ======================================================================================
# Browser fixtures (Debian's chromium through Playwright).  Owner: web console.
#
#   @pytest.mark.browser          a test that drives a real browser; added by itself to every
#                                 test that uses `browser` or `page`.  Those tests run last
#                                 (pytest_collection_modifyitems).
#   browser         (session)     playwright.sync_api.Browser: headless chromium
#                                 ($STACKCTL_CHROMIUM, else `chromium` on PATH, --no-sandbox),
#                                 closed with Playwright at the end of the session, whatever
#                                 happened.  Chromium or playwright missing: the test skips
#                                 with the reason, and FAILS under STACKCTL_REQUIRE_DOCKER=1
#                                 or CI (as in CI).  Install with `bash scripts/browser.sh`.
#   page            (function)    a page in a new context (1280x800), closed afterwards.
#                                 Other sizes / dark mode: helpers.browser.new_page(browser,
#                                 viewport=PHONE, color_scheme="dark").
# ======================================================================================

BROWSER_FIXTURES = frozenset({"browser", "page"})


def _browser_unavailable(reason: str) -> None:
    """Skip, or fail in CI (STACKCTL_REQUIRE_DOCKER=1, or CI set as CI services do)."""
    ci = os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}
    if _docker_required() or ci:
        pytest.fail(
            f"{reason} (STACKCTL_REQUIRE_DOCKER=1 or CI is set, so this fails instead of skipping)",
            pytrace=False,
        )
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from helpers.browser import BrowserUnavailable, launch_chromium

    with contextlib.ExitStack() as stack:
        try:
            chromium = stack.enter_context(launch_chromium())
        except BrowserUnavailable as exc:
            _browser_unavailable(f"the test browser cannot run: {exc}")
        yield chromium


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    from helpers.browser import DESKTOP

    context = browser.new_context(viewport=DESKTOP)
    try:
        yield context.new_page()
    finally:
        context.close()


# ======================================================================================
# End of browser fixtures.
# ======================================================================================


# ======================================================================================
# OpenID provider fixtures (panva's oidc-provider under Node.js).  Owner: console sign-in.
#
#   oidc_provider   (function)   helpers.oidc.OidcProvider, started: a real, certified OpenID
#                                provider on 127.0.0.1 with issuer http://localhost:PORT
#                                (.issuer), client .client_id / .client_secret (in
#                                .secret_file), users alice (groups ops), bob (none), carol
#                                (admins), scopes helpers.oidc.SCOPES; registered for a
#                                console at .console_url (http://127.0.0.1:.console_port):
#                                give the console .app_options() (create_app) or .run_flags()
#                                (stackctl run) and serve it there.  .sign_in(page, "alice")
#                                signs a Playwright page in through the real login page.
#                                Stopped by its process group and its folder removed at
#                                teardown, whatever happened.  Node or the modules missing:
#                                the test skips with the reason, and FAILS under
#                                STACKCTL_REQUIRE_DOCKER=1 or CI.  Install with
#                                `bash scripts/oidc-provider.sh` (the fixture runs its
#                                `--modules` part itself: npm ci when the lock changed).
#   oidc_provider_factory        callable(users=None, client_id="stackctl", console_port=None)
#                   (function)   -> another started OidcProvider (other users:
#                                {"dave": helpers.oidc.OidcUser("dave", ("ops", "admins"))}),
#                                each stopped at teardown.
# ======================================================================================


@pytest.fixture
def oidc_provider_factory(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    from helpers.oidc import OidcProvider, OidcProviderUnavailable

    started: list[Any] = []

    def make(**options: Any) -> Any:
        provider = OidcProvider(tmp_path, **options)
        started.append(provider)
        try:
            provider.start()
        except OidcProviderUnavailable as exc:
            _browser_unavailable(f"the test OpenID provider cannot run: {exc}")
        return provider

    try:
        yield make
    finally:
        for provider in started:
            provider.stop()


@pytest.fixture
def oidc_provider(oidc_provider_factory: Callable[..., Any]) -> Any:
    return oidc_provider_factory()


# ======================================================================================
# End of OpenID provider fixtures.
# ======================================================================================
