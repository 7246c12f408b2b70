"""Errors, messages and values come from manifests and engines: the console shows them as
text. A ``<script>`` in a stack's last error, an event's message, a command's log line or
error, or an environment value renders escaped, never as a tag."""

from __future__ import annotations

from controller.models import Command, CommandType, Event, LogLevel

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def assert_escaped(text: str, where: str) -> None:
    assert "<script>alert" not in text, where
    assert ESCAPED in text, where


def test_last_error_and_event_message_are_text(make_console, db, record_stack) -> None:
    record_stack("shop")
    db.stacks.update("shop", last_error=HOSTILE)
    db.events.add(Event(stack_id="shop", level=LogLevel.ERROR, reason="Boom", message=HOSTILE))
    client = make_console()
    assert_escaped(client.get("/stacks/shop").text, "stack page")
    assert_escaped(client.get("/ui/stacks/shop/body").text, "stack body fragment")
    assert_escaped(client.get("/").text, "stacks table (the failed badge's title)")
    assert_escaped(client.get("/ui/stacks/table").text, "stacks table fragment")


def test_command_error_and_log_lines_are_text(make_console, db, record_stack) -> None:
    record_stack("shop")
    command = db.commands.enqueue(Command(stack_id="shop", type=CommandType.RECONCILE))
    assert db.commands.claim(worker_id="w") is not None
    db.command_logs.add(command.command_id, LogLevel.ERROR, HOSTILE)
    db.commands.fail(command.command_id, error=HOSTILE, worker_id="w")
    client = make_console()
    assert_escaped(client.get(f"/commands/{command.command_id}").text, "command page")
    assert_escaped(client.get("/stacks/shop").text, "stack page commands")
    stream = client.get(f"/ui/commands/{command.command_id}/stream").text
    assert_escaped(stream, "log stream")


def test_environment_values_in_the_diff_are_text(make_console, record_stack) -> None:
    record_stack("shop", "stackctl-test/busybox:1", GREETING="hello")
    record_stack("shop", "stackctl-test/busybox:1", GREETING=HOSTILE)
    page = make_console().get("/stacks/shop/diff").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_quote_does_not_break_out_of_an_attribute(make_console, db, record_stack) -> None:
    """The table puts the last error in the failed badge's ``title`` attribute too."""
    record_stack("shop")
    db.stacks.update("shop", last_error='x" onmouseover="alert(1)')
    for url in ("/", "/ui/stacks/table", "/stacks/shop"):
        page = make_console().get(url).text
        assert 'onmouseover="alert' not in page, url
        assert "x&#34; onmouseover=&#34;alert(1)" in page, url
