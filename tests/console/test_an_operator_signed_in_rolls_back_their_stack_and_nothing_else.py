"""Issue 28's "done when", in chromium, through the real OpenID provider and its login page:
alice (group ``ops``: operator on the stacks labelled ``team=shop``) rolls back ``shop`` with
the console's button, is refused a sync of ``billing`` (which she cannot even see), and the
audit page lists her rollback under her name; bob, whom no binding names, sees a page saying
he has no access and nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.teams import record_labelled, write_policy
from playwright.sync_api import Page, expect

from controller.db import Database
from controller.models.audit import AuditResult
from controller.web.api import create_app, start_server

pytestmark = pytest.mark.browser


@pytest.fixture
def console(oidc_provider: Any, db_path: Path, db: Database, tmp_path: Path) -> Iterator[str]:
    """shop (v1 then v2, both applied) and billing, under the teams' access policy."""
    record_labelled(db, tmp_path, "shop", {"team": "shop"}, image="stackctl-test/busybox:1")
    record_labelled(db, tmp_path, "shop", {"team": "shop"}, image="stackctl-test/busybox:2")
    record_labelled(db, tmp_path, "billing", {"team": "billing"}, image="stackctl-test/busybox:1")
    policy = write_policy(tmp_path)
    app = create_app(db_path=db_path, access_policy=policy, **oidc_provider.app_options())
    server = start_server(app, host="127.0.0.1", port=oidc_provider.console_port)
    try:
        yield server.url
    finally:
        server.stop()


def test_alice_rolls_back_shop_cannot_sync_billing_and_the_audit_names_her(
    page: Page, oidc_provider: Any, console: str, db: Database
) -> None:
    oidc_provider.sign_in(page, "alice", at="/stacks/shop")
    page.get_by_role("button", name="Roll back to v1").click()
    expect(page.locator("#actions-result")).to_contain_text("Rollback to v1: queued")
    [rollback] = [e for e in db.audit.list(stack_id="shop").items if e.action == "rollback"]
    assert (rollback.who, rollback.result, rollback.surface.value) == (
        "alice",
        AuditResult.OK,
        "console",
    )
    shop = db.stacks.require("shop")
    assert shop.pinned and shop.current_version == "v3"
    version = db.stack_versions.require("shop", "v3")
    assert version.metadata.created_by == "stackctl rollback by alice"

    page.goto(console + "/")
    expect(page.get_by_role("link", name="shop", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="billing", exact=True)).to_have_count(0)
    assert page.goto(console + "/stacks/billing").status == 403
    refused = page.request.post(console + "/ui/stacks/billing/sync", headers={"HX-Request": "true"})
    assert refused.status == 403 and "alice may not sync stack" in refused.text()
    assert db.commands.list(stack_id="billing").items == []

    page.goto(console + "/audit")
    row = page.locator("tr.audit-entry", has_text="rollback")
    expect(row).to_have_count(1)
    expect(row.locator("td.who")).to_have_text("alice")
    expect(row).to_contain_text("shop")
    expect(row.locator("td.result")).to_have_text("ok")


def test_bob_whom_no_binding_names_sees_that_and_nothing_else(
    page: Page, oidc_provider: Any, console: str
) -> None:
    page.goto(console + "/")
    page.get_by_role("link", name="Sign in").first.click()
    oidc_provider.log_in_at_provider(page, "bob")
    expect(page.get_by_role("heading", name="No access")).to_be_visible()
    main = page.locator("main")
    expect(main).not_to_contain_text("shop")
    expect(main).not_to_contain_text("billing")
    for path in ("/stacks/shop", "/audit", "/commands/1"):
        answer = page.goto(console + path)
        assert answer is not None and answer.status == 403, path
        expect(page.get_by_role("heading", name="No access")).to_be_visible()
