"""The stack page of a stack on a Swarm engine: the daemon's ``observe(stack, engine)`` answers
a ``SwarmSnapshot``, and the page shows a Services and tasks section (service, mode,
running/wanted, image, update; each task's id, service, slot, node, state, desired state and
error) in place of the containers. What Swarm says is escaped like any other value."""

from __future__ import annotations

import re

from helpers.stacks import desired_stack

from controller.models.swarm import ObservedService, ObservedTask, SwarmSnapshot
from controller.sources.versions import record_version

COMPOSE = {"services": {"web": {"image": "nginx:alpine"}, "db": {"image": "postgres:16"}}}
HOSTILE = "<script>alert(1)</script>"


def section(page: str, heading_id: str) -> str:
    return page.split(f'id="{heading_id}"', 1)[1].split("</section>", 1)[0]


def rows(html: str) -> list[str]:
    """The body rows of the first table in ``html``."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr.*?</tr>", body, flags=re.S)


def snapshot(name: str) -> SwarmSnapshot:
    failed = ObservedTask(
        id="f" * 25, slot=1, node="node" * 8, state="failed", desired_state="shutdown",
        error=f"task: non-zero exit (1) {HOSTILE}", template="t0",
    )  # fmt: skip
    running = ObservedTask(
        id="r" * 25, slot=1, node="node" * 8, state="running", desired_state="running",
        template="t1",
    )  # fmt: skip
    web = ObservedService(
        id="s1", name=f"{name}_web", service="web", version=2, spec_hash="h", replicas=2,
        image="nginx:alpine", update_state="rollback_completed",
        update_message=f"rolled back {HOSTILE}", template="t1", tasks=(running, failed),
    )  # fmt: skip
    return SwarmSnapshot(stack=name, services=(web,))


def test_a_swarm_stack_shows_services_and_tasks(make_console, db, tmp_path) -> None:
    stack = desired_stack(tmp_path, "shop", COMPOSE, target={"engine": "prod"})
    record_version(db, stack, root=tmp_path)
    asked: list[tuple[str, str]] = []

    def observe(name: str, engine: str) -> SwarmSnapshot:
        asked.append((name, engine))
        return snapshot(name)

    answer = make_console(observe=observe).get("/stacks/shop")
    assert answer.status_code == 200, answer.text
    page = answer.text
    assert asked == [("shop", "prod")]
    assert 'id="h-containers"' not in page
    services = rows(section(page, "h-services").split('aria-label="Tasks"', 1)[0])
    assert len(services) == 2
    db_row, web = services  # in the desired order (the compose keys, sorted)
    assert '<th scope="row">web</th><td>replicated</td>' in web
    assert "<td>1/2</td>" in web and ">nginx:alpine<" in web
    assert "rollback_completed: rolled back &lt;script&gt;" in web
    assert '<th scope="row">db</th>' in db_row and ">missing<" in db_row
    tasks = rows(section(page, "h-services").split('aria-label="Tasks"', 1)[1])
    assert len(tasks) == 2
    assert f">{'r' * 12}<" in tasks[0] and ">running<" in tasks[0] and ">1<" in tasks[0]
    assert f">{'f' * 12}<" in tasks[1] and ">failed<" in tasks[1] and ">shutdown<" in tasks[1]
    assert f">{'node' * 3}<" in tasks[1]
    assert "task: non-zero exit (1) &lt;script&gt;alert(1)&lt;/script&gt;" in tasks[1]
    assert HOSTILE not in page


def test_the_layout_follows_what_the_engine_answered(make_console, record_stack) -> None:
    record_stack("blog")
    page = make_console(observe=lambda name, engine: snapshot(name)).get("/stacks/blog").text
    # The page lays out what the engine answered: a SwarmSnapshot is services, whatever the
    # stack's engine is called.
    assert 'id="h-services"' in page
    page = make_console().get("/stacks/blog").text
    assert 'id="h-containers"' in page and 'id="h-services"' not in page
