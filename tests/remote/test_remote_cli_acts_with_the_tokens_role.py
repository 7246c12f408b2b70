"""Through ``stackctl --server`` a personal or service token acts with its role and nothing
more: a ``viewer`` token reads and is refused every write (403, "not allowed", recorded as
denied); an ``operator`` token on ``team=shop`` rolls ``shop`` back but may not sync
``billing``; an ``admin`` token on ``team=shop`` applies a new stack labelled ``team=shop`` but
neither one without that label nor a relabelling of ``shop`` out of its reach; a revoked token
is refused at once (401, "log in")."""

from __future__ import annotations

from helpers.remote import ADMIN_TOKEN, stack_folder, without_ages
from helpers.teams import record_labelled

from controller.commands import tokens
from controller.db import Database
from controller.models.access import Role, StackSelector
from controller.models.audit import Actor, Surface

ROOT = Actor(who="local:root", who_kind="local", surface=Surface.CLI)
IMAGE = "stackctl-test/busybox:1"


def token(db: Database, name: str, role: Role, stacks: str | None = None, owner=None) -> str:
    selector = StackSelector.parse(stacks) if stacks else None
    text, _ = tokens.create(
        db, ROOT, name=name, role=role, stacks=selector, expires=None, owner=owner
    )
    return text


def shop_and_billing(db: Database, tmp_path) -> None:
    record_labelled(db, tmp_path, "shop", {"team": "shop"}, image=IMAGE)
    record_labelled(db, tmp_path, "shop", {"team": "shop"}, image="stackctl-test/busybox:2")
    record_labelled(db, tmp_path, "billing", {"team": "billing"}, image=IMAGE)


def test_a_viewer_token_reads_and_is_refused_writes(db, serve, cli, tmp_path, db_path):
    shop_and_billing(db, tmp_path)
    env = {"STACKCTL_SERVER": serve(), "STACKCTL_TOKEN": token(db, "ci", Role.VIEWER)}
    listed = cli.run("get", "stacks", "-o", "name", env=env)
    assert listed.stdout == "stack/billing\nstack/shop\n", listed.stderr
    for args in (["sync", "shop"], ["suspend", "billing"], ["rollback", "shop"]):
        refused = cli.run(*args, env=env)
        assert refused.returncode == 1, args
        assert refused.stderr == (
            f"error: not allowed: token ci may not {args[0]} stack {args[1]!r} (holds viewer)\n"
        )
    folder = stack_folder(tmp_path / "new", "web", {"image": IMAGE})
    applied = cli.run("apply", str(folder), env=env)
    assert applied.returncode == 1
    assert applied.stderr.startswith("error: not allowed: token ci may not apply anything")
    entries = db.audit.list(who="token ci").items
    assert [(e.action, e.result) for e in reversed(entries)] == [
        ("sync", "denied"),
        ("suspend", "denied"),
        ("rollback", "denied"),
        ("apply", "denied"),
    ]
    assert db.stacks.get("web") is None
    # Its audit table is the one the local `stackctl audit` prints (the viewer reads every
    # stack's entries; the admin token reads them all).
    admin = {
        "STACKCTL_TOKEN": ADMIN_TOKEN,
        "STACKCTL_SERVER": env["STACKCTL_SERVER"],
    }
    remote = cli.run("audit", env=admin)
    local = cli.run("audit", "--db", str(db_path))
    assert remote.returncode == 0 and without_ages(remote.stdout) == without_ages(local.stdout)


def test_an_operator_of_team_shop(db, serve, cli, tmp_path):
    shop_and_billing(db, tmp_path)
    alice = token(db, "laptop", Role.OPERATOR, "team=shop", owner="alice")
    env = {"STACKCTL_SERVER": serve(), "STACKCTL_TOKEN": alice}
    rolled = cli.run("rollback", "shop", env=env)
    assert rolled.returncode == 0, rolled.stderr
    refused = cli.run("sync", "billing", env=env)
    assert refused.returncode == 1
    assert refused.stderr == (
        "error: not allowed: alice (token laptop) may not sync stack 'billing' (holds operator"
        " on team=shop)\n"
    )
    assert [s for s in cli.run("get", "stacks", "-o", "name", env=env).stdout.split()] == [
        "stack/shop"
    ]
    version = db.stack_versions.require("shop", "v3")
    assert version.metadata.created_by.endswith("by alice")
    [entry] = db.audit.list(stack_id="shop", who="alice").items
    assert (entry.action, entry.via, entry.version) == ("rollback", "laptop", "v3")


def test_an_admin_of_team_shop_applies_only_within_it(db, serve, cli, tmp_path):
    shop_and_billing(db, tmp_path)
    env = {
        "STACKCTL_SERVER": serve(),
        "STACKCTL_TOKEN": token(db, "deploy", Role.ADMIN, "team=shop"),
    }
    service = {"image": IMAGE}
    ours = stack_folder(tmp_path / "ours", "cart", service)
    (ours / "cart.yaml").write_text(
        (ours / "cart.yaml").read_text().replace("name: cart", "labels: {team: shop}\n  name: cart")
    )
    applied = cli.run("apply", str(ours), env=env)
    assert applied.returncode == 0, applied.stderr
    assert db.stack_versions.require("cart", "v1").metadata.created_by == (
        "stackctl apply by token deploy"
    )
    unlabelled = cli.run("apply", str(stack_folder(tmp_path / "other", "blog", service)), env=env)
    assert unlabelled.returncode == 1
    assert "token deploy may not apply stack 'blog'" in unlabelled.stderr
    moved = stack_folder(tmp_path / "moved", "shop", service)  # shop, without team=shop
    relabelled = cli.run("apply", str(moved), env=env)
    assert relabelled.returncode == 1
    assert "token deploy may not apply stack 'shop'" in relabelled.stderr
    assert db.stack_versions.latest("shop").version == "v2"
    assert db.stacks.get("blog") is None


def test_a_revoked_token_is_refused_at_once(db, serve, cli, tmp_path):
    shop_and_billing(db, tmp_path)
    env = {"STACKCTL_SERVER": serve(), "STACKCTL_TOKEN": token(db, "ci", Role.VIEWER)}
    assert cli.run("get", "stacks", env=env).returncode == 0
    tokens.revoke(db, ROOT, "ci")
    refused = cli.run("get", "stacks", env=env)
    assert refused.returncode == 1
    assert refused.stderr.startswith(
        "error: invalid bearer token: unknown, revoked or expired; log in with `stackctl login"
    )
