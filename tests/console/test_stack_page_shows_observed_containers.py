"""The stack page's containers come from the ``observe`` callable the daemon passes: without
one the containers are shown as unknown; with one, each observed container's name, state and
version are in its row."""

from __future__ import annotations

import re

from controller.models.observed import ObservedContainer, Snapshot


def container_rows(page: str) -> list[str]:
    section = page.split('id="h-containers"', 1)[1].split("</section>", 1)[0]
    return re.findall(r"<tr><th scope=\"row\">.*?</tr>", section, flags=re.S)


def test_without_observe_containers_are_unknown(make_console, record_stack) -> None:
    record_stack("shop")
    page = make_console().get("/stacks/shop").text
    assert "Containers unknown" in page
    rows = container_rows(page)
    assert len(rows) == 1
    assert ">web<" in rows[0]
    assert ">unknown<" in rows[0]


def test_with_observe_the_row_shows_the_container(make_console, record_stack) -> None:
    record_stack("shop")
    asked: list[str] = []

    def observe(name: str, engine: str) -> Snapshot:
        assert engine == "local"
        asked.append(name)
        container = ObservedContainer(
            id="c0ffee",
            name="shop-web-1",
            service="web",
            number=1,
            config_hash="h",
            image_id="sha256:" + "ab" * 32,
            state="running",
            health="healthy",
            version="v1",
        )
        return Snapshot(stack=name, containers=(container,))

    page = make_console(observe=observe).get("/stacks/shop").text
    assert asked == ["shop"]
    assert "Containers unknown" not in page
    rows = container_rows(page)
    assert len(rows) == 1
    row = rows[0]
    assert "<td>shop-web-1</td>" in row
    assert ">running<" in row
    assert "<td>healthy</td>" in row
    assert "<td>v1</td>" in row
    assert "abababababab" in row


def test_an_engine_error_still_shows_the_page(make_console, record_stack) -> None:
    record_stack("shop")

    def observe(name: str, engine: str) -> Snapshot:
        assert engine == "local"
        raise RuntimeError("engine is away")

    answer = make_console(observe=observe).get("/stacks/shop")
    assert answer.status_code == 200
    assert "Containers unknown: the engine did not answer: engine is away" in answer.text
