"""A stack page re-fetches its body every 2 s with the digest of what it shows
(``/ui/stacks/{name}/body?since=<digest>``): 204 while nothing changed, 200 (the new body and a
new digest) after a change to the stack, its commands or its events."""

from __future__ import annotations

import html
import re

from controller.models import Command, CommandType, Event


def poll_url(page: str) -> str:
    found = re.search(r'<div id="stack-body" hx-get="([^"]+)"', page)
    assert found, page
    return html.unescape(found.group(1))


def test_body_poll(make_console, db, record_stack) -> None:
    record_stack("shop")
    client = make_console()
    url = poll_url(client.get("/stacks/shop").text)
    assert re.fullmatch(r"/ui/stacks/shop/body\?since=[0-9a-f]+", url), url
    assert client.get(url).status_code == 204
    assert client.get(url).status_code == 204

    db.stacks.update("shop", last_error="the engine said no")
    changed = client.get(url)
    assert changed.status_code == 200
    assert "the engine said no" in changed.text
    url = poll_url(changed.text)
    assert client.get(url).status_code == 204

    command = db.commands.enqueue(Command(stack_id="shop", type=CommandType.RECONCILE))
    changed = client.get(url)
    assert changed.status_code == 200
    assert f'data-command="{command.command_id}"' in changed.text
    url = poll_url(changed.text)
    assert client.get(url).status_code == 204

    db.events.add(Event(stack_id="shop", reason="Noted", message="something happened"))
    changed = client.get(url)
    assert changed.status_code == 200
    assert "something happened" in changed.text


def test_body_poll_of_an_unknown_stack_is_404(make_console, record_stack) -> None:
    record_stack("shop")
    assert make_console().get("/ui/stacks/nosuch/body?since=abc").status_code == 404
