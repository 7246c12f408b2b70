"""The stacks table at scale: a page of stacks at a time, by name, and a poll that sends only
what changed.

Walking the pager (``?page=``, ``?per=``) shows every stack the filter keeps exactly once, in
name order, and the filters read in SQL keep what ``StackRow.matches`` keeps. The 2-second
poll answers 204 while nothing changed; when one stack shown on the page changes it sends that
row (an out-of-band swap) with the counts and the pager, not the table; when the stacks of the
page change (one is added, deleted, or leaves the filter) it sends the page's rows; a change
to a stack on another page sends the counts only."""

from __future__ import annotations

import html
import re

import pytest
from helpers.fleet import add_stack

from controller.db import Database
from controller.models import ComposeDefinition, HealthStatus, StackMetadata, StackVersion
from controller.web.console.views import FILTERS, stack_row

NAMES = [f"s{i:03d}" for i in range(40)]


@pytest.fixture
def fleet(db: Database) -> list[str]:
    for i, name in reversed(list(enumerate(NAMES))):  # created out of order on purpose
        add_stack(db, name, i)
    return NAMES


def names(text: str) -> list[str]:
    return re.findall(r'<tr data-stack="([^"]+)"', text)


def poll_url(text: str) -> str:
    found = re.search(r'<div id="stacks" hx-get="([^"]+)"', text)
    assert found, text
    return html.unescape(found.group(1))


def next_url(text: str) -> str | None:
    found = re.search(r'hx-get="([^"]+)"[^>]*>Next</a>', text)
    return html.unescape(found.group(1)) if found else None


def walk(client, **params: object) -> list[str]:
    """Every row shown, following the pager's Next link from the first page."""
    text = client.get("/ui/stacks/table", params=params).text
    seen = names(text)
    while (url := next_url(text)) is not None:
        text = client.get(url).text
        seen += names(text)
    return seen


@pytest.mark.parametrize("status", list(FILTERS))
def test_paging_shows_every_stack_the_filter_keeps_once_in_order(
    make_console, db, fleet, status
) -> None:
    everything = [stack_row(s, origin=None) for s in db.stacks.list() if not s.deleted]
    expected = [r.name for r in everything if r.matches(status, "")]
    assert expected == sorted(expected)
    shown = walk(make_console(), status=status, per=6)
    assert shown == expected, status


def test_paging_with_a_name_filter(make_console, fleet) -> None:
    client = make_console()
    assert walk(client, q="S01", per=4) == [f"s01{i}" for i in range(10)]
    assert walk(client, q="s01", status="failed", per=1) == ["s012", "s018"]


def test_the_first_page_holds_a_hundred_and_the_pager_says_where(make_console, db) -> None:
    for i in range(230):
        add_stack(db, f"n{i:03d}", 1)
    client = make_console()
    first = client.get("/").text
    assert names(first) == [f"n{i:03d}" for i in range(100)]
    assert "Stacks 1\u2013100 of 230" in first
    assert "Page 1 of 3" in first
    last = client.get("/", params={"page": 3}).text
    assert names(last) == [f"n{i:03d}" for i in range(200, 230)]
    assert "Stacks 201\u2013230 of 230" in last
    beyond = client.get("/ui/stacks/table", params={"page": 9}).text  # past the end: the last
    assert names(beyond) == names(last)
    assert client.get("/", params={"page": 0}).status_code == 422


def test_a_poll_sends_the_changed_row_only(make_console, db, fleet) -> None:
    client = make_console()
    page = client.get("/", params={"per": 10}).text
    url = poll_url(page)
    assert client.get(url).status_code == 204
    db.stacks.update("s003", health_status=HealthStatus.DEGRADED)
    changed = client.get(url)
    assert changed.status_code == 200
    assert names(changed.text) == ["s003"]
    assert "hx-swap-oob" in changed.text and 'id="stack-rows"' not in changed.text
    assert 'id="stack-counts" aria-label="Counts" hx-swap-oob="true"' in changed.text
    assert ">Degraded<" in changed.text
    assert len(changed.content) < len(page) / 4
    follow = poll_url(changed.text)
    assert follow != url
    assert client.get(follow).status_code == 204


def test_a_change_on_another_page_sends_the_counts_only(make_console, db, fleet) -> None:
    client = make_console()
    url = poll_url(client.get("/", params={"per": 10}).text)
    db.stacks.update("s033", last_error="broke")
    answer = client.get(url)
    assert answer.status_code == 200
    assert names(answer.text) == []
    assert 'data-count="failed">8<' in answer.text


def test_a_new_version_recorded_resends_its_row(make_console, db, fleet) -> None:
    client = make_console()
    url = poll_url(client.get("/", params={"per": 10}).text)
    db.stack_versions.create(  # s000 is pinned: recorded, not made current (its row unchanged)
        StackVersion(
            stack_id="s000",
            compose=ComposeDefinition(services={"web": {"image": "example/s000:2"}}),
            metadata=StackMetadata(created_by="test", source="s000.yaml"),
        ),
        make_current=False,
    )
    answer = client.get(url)
    assert answer.status_code == 200
    assert names(answer.text) == ["s000"]
    assert "(v2 recorded)" in answer.text


@pytest.mark.parametrize("how", ["added", "deleted", "removed", "left the filter"])
def test_when_the_page_holds_other_stacks_the_poll_sends_its_rows(
    make_console, db, fleet, how
) -> None:
    client = make_console()
    status = "failed" if how == "left the filter" else ""
    url = poll_url(client.get("/", params={"per": 5, "status": status}).text)
    expected = [n for n in NAMES if status == "" or n in ("s000", "s006", "s012", "s018", "s024")]
    if how == "added":
        add_stack(db, "s0015", 1)
        expected = ["s000", "s001", "s0015", "s002", "s003"]
    elif how == "deleted":  # no desired, no applied version: its row stays in the database
        db.stacks.update("s002", current_version=None, applied_version=None)
        expected = ["s000", "s001", "s003", "s004", "s005"]
    elif how == "removed":
        db.stacks.delete("s002")
        expected = ["s000", "s001", "s003", "s004", "s005"]
    else:
        db.stacks.update("s006", last_error=None)
        expected = ["s000", "s012", "s018", "s024", "s030"]
    answer = client.get(url)
    assert answer.status_code == 200
    assert '<tbody id="stack-rows" hx-swap-oob="true">' in answer.text
    assert names(answer.text) == expected[:5]
    assert client.get(poll_url(answer.text)).status_code == 204
