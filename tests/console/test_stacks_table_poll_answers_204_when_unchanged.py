"""The stacks table: counts over every stack that is not deleted (synced, out of sync, suspended,
degraded, failed), rows filtered by ``?status=`` and ``?q=`` (the counts are not), and its
2-second poll answers 204 while nothing changed (``since=`` is the marker the fragment carries in
its ``hx-get``), 200 once a stack or a version changed."""

from __future__ import annotations

import html
import re

import pytest

from controller.models import HealthStatus, SyncStatus


@pytest.fixture
def mix(db, record_stack) -> None:
    record_stack("alpha")  # Synced, Healthy, applied == desired
    record_stack("bravo", applied=False)  # OutOfSync: never applied
    record_stack("charlie")
    db.stacks.update("charlie", health_status=HealthStatus.DEGRADED)  # synced but degraded
    record_stack("delta")
    db.stacks.update("delta", sync_status=SyncStatus.OUT_OF_SYNC, last_error="port taken")
    record_stack("echo")
    db.stacks.update("echo", current_version=None, applied_version=None)  # deleted


def counts(page: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-count="([\w-]+)">(\d+)<', page)}


def names(page: str) -> list[str]:
    return re.findall(r'<tr data-stack="([^"]+)">', page)


def poll_url(page: str) -> str:
    found = re.search(r'<div id="stacks" hx-get="([^"]+)"', page)
    assert found, page
    return html.unescape(found.group(1))


ALL = {"total": 4, "synced": 2, "out-of-sync": 2, "suspended": 0, "degraded": 1, "failed": 1}


def test_counts_over_a_mix(make_console, mix) -> None:
    client = make_console()
    for url in ("/", "/ui/stacks/table"):
        page = client.get(url).text
        assert counts(page) == ALL, url
        assert names(page) == ["alpha", "bravo", "charlie", "delta"], url


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "failed"}, ["delta"]),
        ({"status": "synced"}, ["alpha", "charlie"]),
        ({"status": "out-of-sync"}, ["bravo", "delta"]),
        ({"status": "degraded"}, ["charlie"]),
        ({"q": "ALP"}, ["alpha"]),
        ({"q": "a", "status": "out-of-sync"}, ["bravo", "delta"]),
        ({"q": "echo"}, []),
        ({"status": "bogus"}, ["alpha", "bravo", "charlie", "delta"]),
    ],
)
def test_filters_keep_rows_not_counts(make_console, mix, query, expected) -> None:
    client = make_console()
    for url in ("/", "/ui/stacks/table"):
        page = client.get(url, params=query).text
        assert names(page) == expected, (url, query)
        assert counts(page) == ALL, (url, query)
        if not expected:
            assert "No stack matches." in page


def test_poll_is_204_until_a_stack_changes(make_console, db, mix) -> None:
    client = make_console()
    url = poll_url(client.get("/").text)
    assert "since=" in url
    assert client.get(url).status_code == 204
    assert client.get(url).status_code == 204
    db.stacks.update("alpha", health_status=HealthStatus.DEGRADED)
    changed = client.get(url)
    assert changed.status_code == 200
    assert 'data-stack="alpha"' in changed.text
    follow = poll_url(changed.text)
    assert follow != url
    assert client.get(follow).status_code == 204


def test_poll_is_200_after_a_new_version(make_console, db, mix, record_stack) -> None:
    client = make_console()
    url = poll_url(client.get("/ui/stacks/table").text)
    assert client.get(url).status_code == 204
    record_stack("alpha", "stackctl-test/busybox:2", applied=False)
    answer = client.get(url)
    assert answer.status_code == 200
    assert client.get(poll_url(answer.text)).status_code == 204


def test_poll_marker_belongs_to_its_filter(make_console, mix) -> None:
    client = make_console()
    url = poll_url(client.get("/", params={"status": "failed"}).text)
    assert "status=failed" in url
    assert client.get(url).status_code == 204
    other = url.replace("status=failed", "status=synced")
    answer = client.get(other)
    assert answer.status_code == 200
    assert names(answer.text) == ["alpha", "charlie"]
