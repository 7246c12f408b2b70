"""A name that is not there is a page for people (404, HTML, with a way back), and a stack
deleted while its page is open replaces the page's content with that message instead of
raw JSON, and the page stops asking."""

from __future__ import annotations


def test_unknown_names_are_html_pages(make_console, record_stack) -> None:
    record_stack("shop")
    client = make_console()
    for url in ("/stacks/nope", "/stacks/nope/diff", "/stacks/shop/diff?to=v9", "/commands/99"):
        answer = client.get(url)
        assert answer.status_code == 404, url
        assert answer.headers["content-type"].startswith("text/html"), url
        assert "<h1>Not found</h1>" in answer.text, url
        assert 'href="/"' in answer.text


def test_a_deleted_stack_stops_its_page_polling(make_console, record_stack, db) -> None:
    record_stack("shop")
    client = make_console()
    assert client.get("/stacks/shop").status_code == 200
    db.stacks.delete("shop")
    answer = client.get("/ui/stacks/shop/body?since=x")
    assert answer.status_code == 404
    assert "no stack named &#39;shop&#39;" in answer.text
    assert 'id="stack-body"' in answer.text and "hx-get" not in answer.text
