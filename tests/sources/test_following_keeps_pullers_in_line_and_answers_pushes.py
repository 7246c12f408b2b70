"""``Sources`` and ``declarations`` on a real database, without a controller or an HTTP server:
the repositories followed are exactly those declared (new ones started, changed ones restarted,
removed ones stopped, the stacks they leave said, a broken file's repository kept); readiness
names a repository whose fetch failed; ``stackctl sync --repository`` triggers its puller; a
push webhook is read only once a followed repository's secret signs it, then triggers the
puller of the repository and ref it names, once per delivery.

The repositories' URLs point at nothing that answers (port 9 refuses at once, or a path that
does not exist), and their interval is an hour: nothing is fetched twice on its own."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers.followed import github_headers
from helpers.git_servers import Pusher, bare_repo

from controller.db import Database
from controller.desired.repository_spec import RepositorySpec
from controller.models import LogLevel
from controller.sources import following
from controller.sources.following import DEFAULT, Declared, Sources, declarations
from controller.sources.git import webhooks
from controller.sources.loader import load_root
from controller.sources.puller import GitStats
from controller.sources.watcher import Claims

INFRA = "https://127.0.0.1:9/ops/infra.git"
SHOP = "https://127.0.0.1:9/ops/shop.git"
SECRET = b"infra-secret"


def wait_for(what: str, condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def spec(name: str, url: str, **fields: object) -> RepositorySpec:
    return RepositorySpec(name=name, url=url, interval_s=3600, **fields)  # type: ignore[arg-type]


def push(url: str, *, ref: str = "refs/heads/main") -> bytes:
    return json.dumps(
        {"ref": ref, "after": "b" * 40, "repository": {"full_name": "ops/x", "clone_url": url}}
    ).encode()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    db = Database(db_path=tmp_path / "s.db")
    yield db
    db.close()


@pytest.fixture
def sources(db: Database, tmp_path: Path) -> Iterator[Sources]:
    sources = Sources(
        db, state_dir=tmp_path / "git", claims=Claims(), on_enqueue=lambda: None, stats=GitStats()
    )
    yield sources
    sources.stop_all()


class Triggers:
    """Records the pullers' triggers instead of fetching (a trigger is all ``Sources`` does)."""

    def __init__(self, sources: Sources, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, str]] = []
        for name, puller in sources.pullers().items():
            monkeypatch.setattr(
                puller, "trigger", lambda why, name=name: self.calls.append((name, why))
            )


def removed(db: Database) -> list[tuple[LogLevel, str]]:
    return [(e.level, e.message) for e in db.events.list().items if e.reason == "RepositoryRemoved"]


def test_declarations_are_the_flags_then_the_files_in_order(tmp_path: Path):
    manifest = (
        "apiVersion: stackctl/v1\nkind: Repository\nmetadata: {{name: {name}}}\n"
        "spec: {{url: {url}}}\n"
    )
    (tmp_path / "a.yaml").write_text(manifest.format(name="infra", url=INFRA))
    (tmp_path / "c.yaml").write_text(manifest.format(name="default", url=SHOP))  # the flag's
    (tmp_path / "d.yaml").write_text("apiVersion: stackctl/v1\nkind: Repository\nspec: [\n")
    last = load_root(tmp_path)
    flagged = spec("default", INFRA)
    declared, broken = declarations(last, flagged=flagged, secret=b"s")
    assert declared[DEFAULT] == Declared(flagged, "--git-url", b"s")
    assert (declared["infra"].spec.url, declared["infra"].declared_by) == (INFRA, "a.yaml")
    assert set(declared) == {DEFAULT, "infra"}
    assert broken == frozenset({"d.yaml"})
    assert declarations(None, flagged=None, secret=None) == ({}, frozenset())


def test_update_follows_exactly_what_is_declared(db: Database, sources: Sources, tmp_path):
    infra = Declared(spec("infra", INFRA), "infra.yaml")
    shop = Declared(spec("shop", str(tmp_path / "nowhere.git")), "shop.yaml")
    sources.update({"infra": infra, "shop": shop})
    first = sources.pullers()
    assert set(first) == {"infra", "shop"}
    assert [r.name for r in db.repositories.list()] == ["infra", "shop"]
    assert db.repositories.get("infra").declared_by == "infra.yaml"

    sources.update({"infra": infra, "shop": shop})  # the same: nothing restarted
    assert sources.pullers() == first

    moved = Declared(spec("infra", INFRA, ref="release"), "infra.yaml")
    sources.update({"infra": moved, "shop": shop})  # changed: followed anew
    again = sources.pullers()
    assert again["infra"] is not first["infra"] and again["shop"] is first["shop"]
    assert again["infra"].spec.ref == "release"
    assert db.repositories.get("infra").ref == "release"

    sources.update({"infra": moved})  # removed: stopped and its row forgotten
    assert set(sources.pullers()) == {"infra"}
    assert [r.name for r in db.repositories.list()] == ["infra"]
    assert removed(db) == [
        (LogLevel.WARNING, "repository shop is no longer declared; its stacks keep running unowned")
    ]
    assert not any(t.name == "git-shop" for t in threading.enumerate())


def test_a_broken_files_repository_keeps_being_followed(db: Database, sources: Sources):
    infra = Declared(spec("infra", INFRA), "infra.yaml")
    sources.update({"infra": infra})
    puller = sources.pullers()["infra"]
    sources.update({}, broken=frozenset({"infra.yaml"}))
    assert sources.pullers() == {"infra": puller}
    assert db.repositories.get("infra") is not None and removed(db) == []
    sources.update({}, broken=frozenset({"other.yaml"}))
    assert sources.pullers() == {}


def test_a_removed_repository_names_the_stacks_it_leaves_running(
    db: Database, sources: Sources, tmp_path: Path
):
    origin = bare_repo(tmp_path, "shop.git")
    pusher = Pusher(origin, work=tmp_path / "work")
    pusher.write({"web.yaml": "services:\n  web:\n    image: web:1\n"}).commit("web")
    pusher.push()
    sources.update({"shop": Declared(spec("shop", str(origin)), "shop.yaml")})
    puller = sources.pullers()["shop"]
    wait_for("the first fetch", lambda: db.stack_versions.latest("web") is not None)
    assert puller.watcher.managed_names() == {"web"}
    sources.update({})
    assert removed(db) == [
        (
            LogLevel.WARNING,
            "repository shop is no longer declared; its stacks keep running unowned (web):"
            " delete them with `stackctl delete`",
        )
    ]
    assert db.stacks.get("web") is not None  # nothing deleted


def test_readiness_names_a_repository_whose_fetch_failed(sources: Sources, tmp_path: Path):
    assert sources.readiness() is True
    sources.update({"shop": Declared(spec("shop", str(tmp_path / "nowhere.git")), "s.yaml")})
    puller = sources.pullers()["shop"]
    wait_for("the failed fetch", lambda: puller.error is not None)
    ready = sources.readiness()
    assert isinstance(ready, str) and ready.startswith("shop: last fetch failed: unreachable: ")


def test_sync_repository_requests_trigger_their_pullers(
    db: Database, sources: Sources, monkeypatch
):
    sources.update({"infra": Declared(spec("infra", INFRA), "i.yaml")})
    triggers = Triggers(sources, monkeypatch)
    db.repositories.request_fetch("infra")
    sources.take_requests()
    assert triggers.calls == [("infra", "stackctl sync --repository")]
    sources.take_requests()  # taken: asked once, fetched once
    assert len(triggers.calls) == 1


@pytest.fixture
def hooked(sources: Sources, monkeypatch) -> Triggers:
    """infra (signed by SECRET, on main) and shop (no secret) followed; triggers recorded."""
    sources.update(
        {
            "infra": Declared(spec("infra", INFRA), "i.yaml", secret=SECRET),
            "shop": Declared(spec("shop", SHOP), "s.yaml"),
        }
    )
    return Triggers(sources, monkeypatch)


def test_a_signed_push_for_a_followed_ref_fetches_once_per_delivery(
    sources: Sources, hooked: Triggers
):
    body = push(INFRA)
    status, answer = sources.receive_push(headers=github_headers(SECRET, body), body=body)
    assert status == 202
    assert answer == {
        "detail": "fetching infra now; a new commit is recorded as versions and applied",
        "repository": "infra",
        "ref": "refs/heads/main",
        "after": "b" * 40,
    }
    assert hooked.calls == [("infra", f"github push {'b' * 12} to refs/heads/main")]
    status, answer = sources.receive_push(headers=github_headers(SECRET, body), body=body)
    assert status == 202 and answer["detail"].startswith("delivery d-1 was received before")
    assert len(hooked.calls) == 1
    assert sources.stats.snapshot().webhooks == {
        ("github", "accepted"): 1,
        ("github", "redelivery"): 1,
    }


def test_pushes_that_do_not_fetch(sources: Sources, hooked: Triggers):
    other_ref = push(INFRA, ref="refs/heads/dev")
    status, answer = sources.receive_push(
        headers=github_headers(SECRET, other_ref, delivery="d-2"), body=other_ref
    )
    assert (status, answer["detail"]) == (
        202,
        "ignored: a push to refs/heads/dev; infra follows main",
    )
    elsewhere = push("https://127.0.0.1:9/ops/unknown.git")
    status, answer = sources.receive_push(
        headers=github_headers(SECRET, elsewhere, delivery="d-3"), body=elsewhere
    )
    assert status == 202 and answer["detail"].startswith("ignored: the repositories whose secret")
    for secret in (b"wrong", b""):  # shop has no secret: nothing it is named in is read
        shop = push(SHOP)
        status, answer = sources.receive_push(
            headers=github_headers(secret, shop, delivery="d-4"), body=shop
        )
        assert (status, answer["detail"]) == (401, webhooks.NOT_SIGNED.reason)
    assert hooked.calls == []


def test_a_named_repository_is_checked_against_its_own_secret_only(
    sources: Sources, hooked: Triggers
):
    body = push(SHOP)  # signed by infra's secret, but for ?repository=shop
    status, _ = sources.receive_push(
        headers=github_headers(SECRET, body), body=body, repository="shop"
    )
    assert status == 401
    body = push("https://127.0.0.1:9/any/name.git")  # named: its URL is not compared
    status, answer = sources.receive_push(
        headers=github_headers(SECRET, body), body=body, repository="infra"
    )
    assert (status, answer["repository"]) == (202, "infra")
    assert [name for name, _ in hooked.calls] == ["infra"]


def test_a_secret_file_is_read_at_each_delivery(sources: Sources, tmp_path: Path, monkeypatch):
    secret_file = tmp_path / "hook-secret"
    secret_file.write_text("first\n")
    sources.update(
        {"infra": Declared(spec("infra", INFRA, webhook_secret_file=secret_file), "i.yaml")}
    )
    hooked = Triggers(sources, monkeypatch)
    body = push(INFRA)
    first = sources.receive_push(headers=github_headers(b"first", body, delivery="1"), body=body)
    assert first[0] == 202
    secret_file.write_text("second")  # rotated: applies without a restart
    old = sources.receive_push(headers=github_headers(b"first", body, delivery="2"), body=body)
    new = sources.receive_push(headers=github_headers(b"second", body, delivery="3"), body=body)
    assert (old[0], new[0]) == (401, 202)
    secret_file.unlink()  # unreadable: nothing signs
    gone = sources.receive_push(headers=github_headers(b"second", body, delivery="4"), body=body)
    assert gone[0] == 401
    assert len(hooked.calls) == 2
    assert following._secret(Declared(spec("x", INFRA), "x.yaml")) is None


def test_a_body_announced_too_large_is_refused_before_anything(sources: Sources, hooked):
    headers = {**github_headers(SECRET, b"{}"), "Content-Length": str(10**9)}
    status, _ = sources.receive_push(headers=headers, body=b"{}")
    assert status == 413
    assert sources.stats.snapshot().webhooks == {("unknown", "toolarge"): 1}
    assert hooked.calls == []


def test_a_push_that_fetches_is_in_the_audit_log_as_the_forges(
    sources: Sources, hooked: Triggers, db: Database
):
    body = push(INFRA)
    sources.receive_push(headers=github_headers(SECRET, body), body=body)
    sources.receive_push(headers=github_headers(SECRET, body), body=body)  # a redelivery: no
    [entry] = db.audit.list().items
    assert (entry.who, entry.who_kind, entry.surface.value, entry.action) == (
        "webhook from github",
        "webhook",
        "webhook",
        "fetch infra",
    )
    assert entry.detail == f"push {'b' * 12} to refs/heads/main (delivery d-1)"
