"""How fast the web console answers with many stacks, and how soon a command's log line
reaches a browser following it.

Builds a fresh SQLite database in a temporary folder with N stacks (two versions each, one or
two services, a mix of sync/health statuses, errors, suspended and pinned stacks), serves the
real app (``create_app`` + ``start_server`` on 127.0.0.1, no token) and measures, over R
requests on one keep-alive ``http.client`` connection after 3 warm-ups:

- ``GET /`` (the whole page) and ``GET /ui/stacks/table`` (the fragment the page polls):
  time to first byte (status line and headers in) and full response (body read);
- the table poll with an unchanged ``since`` (the 204 the page gets every 2 s);
- in process, without HTTP: ``stacks_view`` alone, and with the fragment and page rendered
  (the server's own time; the issue's goal is under 200 ms for 1,000 stacks).

Then the live log: a RUNNING command's stream ``/ui/commands/{id}/stream`` is read in a
thread while M lines are written ~50 ms apart with ``db.command_logs.add``; the delay from
just before each ``add`` to its ``data:`` line arriving (goal: under 250 ms), and the delay
from the command's completion to ``event: end``; and the same in Debian's chromium (when
``scripts/browser.sh`` installed it): the command's page open, each line timed from just
before ``add`` to its row entering the page (a MutationObserver; wall clocks, ms).

With ``--scale 1000,10000`` only the console at scale, in chromium, for each count of stacks
(a database built as above, a server on it): R navigations to ``/`` timed from the
navigation's start to the first frame after the load event with the table's rows in the page
(and to the first byte; the document's size), the bytes on the wire of each poll while nothing
changes, and R times one stack shown on the page changing health: the bytes of the console's
answers until its row shows it, the elements that entered the page, the delay. Medians, with
min and max. Run it against another tree's code with ``PYTHONPATH=<tree>``.

No engine needed. Run: ``.venv/bin/python bench/ui.py [--stacks N] [--requests R]
[--lines M]`` or ``bench/ui.py --scale 1000,10000 [--rounds R]``. Prints figures; asserts
nothing about time.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's queue: drop this folder from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import functools
import http.client
import os
import platform
import re
import resource
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from controller.db import Database
from controller.models import (
    Command,
    CommandType,
    ComposeDefinition,
    HealthStatus,
    LogLevel,
    Stack,
    StackMetadata,
    StackVersion,
    SyncStatus,
)
from controller.web.api.app import create_app
from controller.web.api.server import start_server
from controller.web.console.auth import Access
from controller.web.console.routes import table_etag
from controller.web.console.templating import templates
from controller.web.console.views import stacks_view

print = functools.partial(print, flush=True)
WARMUPS = 3
WORKER = "bench-ui"


def figures(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"p50 {statistics.median(ordered) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms"
        f"  max {ordered[-1] * 1000:7.1f} ms  (n={len(ordered)})"
    )


def rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def compose(i: int, rev: int) -> ComposeDefinition:
    services: dict[str, dict[str, object]] = {
        "web": {
            "image": f"registry.example/app-{i % 50}:{rev}",
            "environment": {"REV": str(rev), "STACK": str(i)},
            "ports": [{"target": 8080, "published": str(10000 + i), "protocol": "tcp"}],
        },
    }
    if i % 2:
        services["db"] = {"image": "postgres:16", "environment": {"POSTGRES_DB": f"s{i}"}}
    return ComposeDefinition(services=services)


def build(db: Database, count: int) -> None:
    """``count`` stacks, two versions each, statuses spread so every count is non-zero."""
    with db.transaction():
        for i in range(count):
            name = f"stack-{i:05d}"
            db.stacks.create(Stack(stack_id=name, name=name))
            for rev in (1, 2):
                db.stack_versions.create(
                    StackVersion(
                        stack_id=name,
                        compose=compose(i, rev),
                        metadata=StackMetadata(created_by="bench", comment=f"{name} rev {rev}"),
                    )
                )
            changes: dict[str, object] = {
                "applied_version": "v2",
                "sync_status": SyncStatus.SYNCED,
                "health_status": HealthStatus.HEALTHY,
            }
            if i % 7 == 0:
                changes.update(applied_version="v1", sync_status=SyncStatus.OUT_OF_SYNC)
            if i % 11 == 0:
                changes.update(health_status=HealthStatus.DEGRADED)
            if i % 13 == 0:
                changes.update(last_error=f"apply of v2 failed: image pull ({i})")
            if i % 17 == 0:
                changes.update(suspended=True, health_status=HealthStatus.SUSPENDED)
            if i % 19 == 0:
                changes.update(pinned=True, health_status=HealthStatus.PROGRESSING)
            db.stacks.update(name, **changes)  # type: ignore[arg-type]


def timed_get(
    conn: http.client.HTTPConnection, path: str, expect: int
) -> tuple[float, float, bytes]:
    """(time to first byte, full time, body) of one GET on a kept-alive connection."""
    start = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()  # returns once the status line and headers are in
    first = time.perf_counter()
    body = response.read()
    done = time.perf_counter()
    if response.status != expect:
        raise SystemExit(f"GET {path}: {response.status}, expected {expect}: {body[:300]!r}")
    return first - start, done - start, body


def measure_http(
    conn: http.client.HTTPConnection, path: str, expect: int, requests: int
) -> tuple[list[float], list[float], int]:
    for _ in range(WARMUPS):
        timed_get(conn, path, expect)
    ttfb: list[float] = []
    full: list[float] = []
    size = 0
    for _ in range(requests):
        first, total, body = timed_get(conn, path, expect)
        ttfb.append(first)
        full.append(total)
        size = len(body)
    return ttfb, full, size


def in_process(fn: Callable[[], object], requests: int) -> list[float]:
    for _ in range(WARMUPS):
        fn()
    times: list[float] = []
    for _ in range(requests):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def server_side(db: Database, requests: int) -> dict[str, list[float]]:
    """The console's own work for the table, without HTTP (what a request's handler does)."""
    access = Access(token_configured=False, reads_open=True, signed_in=False)
    fragment = templates.get_template("_stacks_table.html")
    page = templates.get_template("stacks.html")

    def table() -> str:
        view = stacks_view(db)
        return fragment.render(
            request=None, access=access, view=view, status="", q="", etag=table_etag
        )

    def whole() -> str:
        view = stacks_view(db)
        return page.render(
            request=None, access=access, view=view, status="", q="", etag=table_etag, title="Stacks"
        )

    def poll_unchanged() -> bool:  # what the route does before answering 204
        return table_etag(db.stacks.change_marker(), "", "") == ""

    return {
        "stacks_view() only": in_process(lambda: stacks_view(db), requests),
        "view + table fragment": in_process(table, requests),
        "view + whole page": in_process(whole, requests),
        "marker + etag (204 path)": in_process(poll_unchanged, requests),
        "change_marker() only": in_process(db.stacks.change_marker, requests),
    }


LINE = re.compile(r"line (\d+) (\d+)")


class StreamReader(threading.Thread):
    """Reads a command's SSE stream and notes when each log line and the end arrive."""

    def __init__(self, host: str, port: int, command_id: int) -> None:
        super().__init__(name="bench-ui-sse", daemon=True)
        self.conn = http.client.HTTPConnection(host, port, timeout=30)
        self.command_id = command_id
        self.arrived: dict[int, int] = {}  # line index -> perf_counter_ns at arrival
        self.end_at: int | None = None
        self.opened = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.conn.request("GET", f"/ui/commands/{self.command_id}/stream")
            response = self.conn.getresponse()
            if response.status != 200:
                raise RuntimeError(f"stream answered {response.status}")
            self.opened.set()
            kind = ""
            while True:
                raw = response.readline()
                if not raw:
                    return
                now = time.perf_counter_ns()
                text = raw.decode("utf-8", "replace").rstrip("\r\n")
                if text.startswith("event: "):
                    kind = text.removeprefix("event: ")
                    if kind == "end" and self.end_at is None:
                        self.end_at = now
                elif text.startswith("data: ") and kind == "line":
                    match = LINE.search(text)
                    if match:
                        self.arrived.setdefault(int(match.group(1)), now)
                elif text == "" and kind == "end":
                    return
        except BaseException as e:  # reported by the main thread
            self.error = e
            self.opened.set()
        finally:
            self.conn.close()


def measure_stream(db: Database, host: str, port: int, lines: int, spacing: float) -> dict:
    name = "bench-ui-stream"
    db.stacks.create(Stack(stack_id=name, name=name))
    db.stack_versions.create(
        StackVersion(
            stack_id=name, compose=compose(0, 1), metadata=StackMetadata(created_by="bench")
        )
    )
    command = db.commands.enqueue(Command(stack_id=name, type=CommandType.RECONCILE))
    claimed = db.commands.claim(worker_id=WORKER)
    if claimed is None or claimed.command_id != command.command_id:
        raise SystemExit(f"could not claim the bench command: {claimed}")
    assert command.command_id is not None
    reader = StreamReader(host, port, command.command_id)
    reader.start()
    if not reader.opened.wait(10) or reader.error is not None:
        raise SystemExit(f"the stream did not open: {reader.error}")
    time.sleep(0.3)  # the stream's first poll has run: every line below is a new one
    written: dict[int, int] = {}
    for i in range(lines):
        t0 = time.perf_counter_ns()
        written[i] = t0
        db.command_logs.add(command.command_id, LogLevel.INFO, f"line {i} {t0}", data=None)
        time.sleep(spacing)
    deadline = time.monotonic() + 5
    while len(reader.arrived) < lines and time.monotonic() < deadline:
        time.sleep(0.01)
    done_at = time.perf_counter_ns()
    db.commands.complete(command.command_id, worker_id=WORKER)
    reader.join(10)
    delays = [(reader.arrived[i] - written[i]) / 1e9 for i in written if i in reader.arrived]
    end_delay = None if reader.end_at is None else (reader.end_at - done_at) / 1e9
    return {
        "delays": delays,
        "missing": lines - len(delays),
        "end_delay": end_delay,
        "error": reader.error,
        "alive": reader.is_alive(),
    }


# Installed in the command page: notes when each log row enters the page (wall clock, ms).
OBSERVE_ROWS = """() => {
  window.__arrived = {};
  const body = document.querySelector("table.log tbody");
  new MutationObserver(() => {
    const now = Date.now();
    for (const row of body.querySelectorAll("tr")) {
      const m = /line (\\d+) (\\d+)/.exec(row.textContent);
      if (m && !(m[1] in window.__arrived)) window.__arrived[m[1]] = now;
    }
  }).observe(body, {childList: true});
}"""


def measure_browser(db: Database, base: str, lines: int, spacing: float) -> dict | None:
    """The same lines followed by Debian's chromium on the command's page (Playwright):
    from just before ``add()`` to the row in the page's DOM. None without chromium."""
    chromium = os.environ.get("STACKCTL_CHROMIUM") or shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if chromium is None:
        return None
    name = "bench-ui-browser"
    db.stacks.create(Stack(stack_id=name, name=name))
    command = db.commands.enqueue(Command(stack_id=name, type=CommandType.RECONCILE))
    claimed = db.commands.claim(worker_id=WORKER)
    assert claimed is not None and command.command_id == claimed.command_id
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            loads = [_navigation(page, f"{base}/") for _ in range(LOADS)]
            page.goto(f"{base}/commands/{command.command_id}")
            page.wait_for_selector("[data-open]")  # the page's EventSource is open
            page.evaluate(OBSERVE_ROWS)
            time.sleep(0.3)
            written: dict[int, float] = {}
            for i in range(lines):
                written[i] = time.time() * 1000
                db.command_logs.add(command.command_id, LogLevel.INFO, f"line {i} 0", data=None)
                time.sleep(spacing)
            deadline = time.monotonic() + 5
            arrived: dict[str, float] = {}
            while time.monotonic() < deadline:
                arrived = page.evaluate("window.__arrived")
                if len(arrived) >= lines:
                    break
                time.sleep(0.05)
            db.commands.complete(command.command_id, worker_id=WORKER)
            ended = time.time() * 1000
            page.wait_for_selector('[data-status="DONE"]', timeout=5000)
            end_delay = time.time() * 1000 - ended
        finally:
            browser.close()
    delays = [(arrived[str(i)] - written[i]) / 1000 for i in written if str(i) in arrived]
    return {
        "delays": delays,
        "missing": lines - len(delays),
        "end_delay": end_delay,
        "first_byte": [n["responseStart"] / 1000 for n in loads],
        "loaded": [n["loadEventEnd"] / 1000 for n in loads],
    }


LOADS = 10


def _navigation(page: Any, url: str) -> dict[str, float]:
    """One load of ``url`` in chromium and its Navigation Timing (ms from the navigation's
    start): ``responseStart`` (first byte), ``loadEventEnd`` (page, style and scripts done)."""
    page.goto(url, wait_until="load")
    return page.evaluate(
        "(() => { const n = performance.getEntriesByType('navigation')[0];"
        " return {responseStart: n.responseStart, loadEventEnd: n.loadEventEnd}; })()"
    )


# ---- the console at scale (--scale): page load in chromium and the poll's bytes ----------

# Installed before each navigation: the time (ms since the navigation started) of the first
# frame after the load event with the stacks table's rows in the page; and, for the polls,
# how many elements enter the table's section (a whole re-rendered table or one row).
RENDERED = """(() => {
  window.__rendered = null;
  window.__added = 0;
  const ready = () => document.readyState === "complete"
    && document.querySelector("table.stacks tr[data-stack]");
  const stamp = () => requestAnimationFrame(() => setTimeout(() => {
    if (window.__rendered === null) window.__rendered = performance.now();
  }, 0));
  const count = (records) => {
    for (const r of records) for (const n of r.addedNodes)
      if (n.nodeType === 1) window.__added += 1 + n.getElementsByTagName("*").length;
  };
  addEventListener("load", () => {
    new MutationObserver(count).observe(document.querySelector("main"),
      {childList: true, subtree: true});
    if (ready()) { stamp(); return; }
    new MutationObserver((_, o) => { if (ready()) { o.disconnect(); stamp(); } })
      .observe(document, {childList: true, subtree: true});
  });
})()"""


class Polls:
    """The console's own requests (``/ui/...``) the page makes, with their sizes on the wire
    (status line, headers and body, as chromium counts them)."""

    def __init__(self, page: Any) -> None:
        self.seen: list[tuple[float, int, int]] = []  # (monotonic, status, bytes)
        page.on("requestfinished", self._finished)

    def _finished(self, request: Any) -> None:
        if "/ui/stacks" not in request.url:
            return
        sizes = request.sizes()
        response = request.response()
        status = response.status if response is not None else 0
        wire = sizes["responseHeadersSize"] + sizes["responseBodySize"]
        self.seen.append((time.monotonic(), status, wire))

    def since(self, start: float) -> list[tuple[float, int, int]]:
        return [p for p in self.seen if p[0] >= start]


def scale_build(path: Path, count: int) -> float:
    start = time.perf_counter()
    with Database(db_path=path) as db:
        build(db, count)
    return time.perf_counter() - start


def scale_loads(page: Any, url: str, rounds: int) -> tuple[list[float], list[float], int]:
    """``rounds`` navigations to ``url``: navigation -> table rendered (first frame after load
    with rows), navigation -> first byte (s), and the document's size (bytes)."""
    rendered: list[float] = []
    first: list[float] = []
    size = 0
    for _ in range(rounds + 1):  # the first one warms chromium and the server up
        response = page.goto(url, wait_until="load")
        page.wait_for_function("window.__rendered !== null", timeout=60_000)
        timing = page.evaluate(
            "(() => { const n = performance.getEntriesByType('navigation')[0];"
            " return [window.__rendered, n.responseStart, n.encodedBodySize]; })()"
        )
        rendered.append(timing[0] / 1000)
        first.append(timing[1] / 1000)
        size = int(timing[2]) or len(response.body())
    return rendered[1:], first[1:], size


def scale_polls(page: Any, db: Database, polls: Polls, rounds: int) -> dict[str, list[float]]:
    """Idle: the bytes of each poll while nothing changes. Changed: one stack shown on the
    page changes health, and the bytes of the console's answers until the row shows it, the
    elements that entered the page, and the delay from the write to the row showing it."""
    page.wait_for_timeout(2500)
    start = time.monotonic()
    page.wait_for_timeout(2000 * rounds + 500)
    idle = [float(p[2]) for p in polls.since(start)]
    changed: list[float] = []
    added: list[float] = []
    shown: list[float] = []
    names = page.eval_on_selector_all(  # not a suspended one: its health reads Suspended
        'tr[data-stack] [data-field="health"]',
        "cells => cells.filter(c => c.textContent.trim() !== 'Suspended')"
        ".map(c => c.closest('tr').dataset.stack)",
    )
    for i in range(rounds):
        name = names[(3 + 7 * i) % len(names)]
        cell = f'tr[data-stack="{name}"] [data-field="health"]'
        before = page.inner_text(cell).strip()
        health = HealthStatus.DEGRADED if before != "Degraded" else HealthStatus.HEALTHY
        page.evaluate("window.__added = 0")
        start = time.monotonic()
        db.stacks.update(name, health_status=health)
        page.wait_for_function(
            "([sel, want]) => { const c = document.querySelector(sel);"
            " return c !== null && c.textContent.trim() === want; }",
            arg=[cell, health.value],
            timeout=15_000,
        )
        shown.append(time.monotonic() - start)
        page.wait_for_timeout(200)  # the answer's requestfinished event is in
        changed.append(float(sum(p[2] for p in polls.since(start) if p[1] == 200)))
        added.append(float(page.evaluate("window.__added")))
        page.wait_for_timeout(500)
    return {"idle": idle, "changed": changed, "added": added, "shown": shown}


def scale_run(count: int, rounds: int, chromium: str) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="stackctl-bench-ui-scale-"))
    server = None
    try:
        built = scale_build(tmp / "stackctl.db", count)
        server = start_server(create_app(db_path=tmp / "stackctl.db"), host="127.0.0.1", port=0)
        with Database(db_path=tmp / "stackctl.db") as db, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.add_init_script(RENDERED)
                rendered, first, size = scale_loads(page, f"{server.url}/", rounds)
                polls = Polls(page)
                result = scale_polls(page, db, polls, rounds)
            finally:
                browser.close()
        return {"built": built, "rendered": rendered, "first": first, "size": size, **result}
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def median_text(values: list[float], scale: float, unit: str, digits: int = 0) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return (
        f"{statistics.median(ordered) * scale:.{digits}f} {unit}"
        f" (min {ordered[0] * scale:.{digits}f}, max {ordered[-1] * scale:.{digits}f},"
        f" n={len(ordered)})"
    )


def scale_main(counts: list[int], rounds: int) -> None:
    chromium = os.environ.get("STACKCTL_CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        raise SystemExit("no chromium: run scripts/browser.sh")
    import controller

    print(f"console code: {Path(controller.__file__).resolve().parent.parent}")
    print(f"{rounds} rounds each, medians (goal: table rendered <= 0.5 s; a changed poll sends")
    print("the changed row, not the table)")
    for count in counts:
        r = scale_run(count, rounds, chromium)
        print()
        print(f"{count} stacks (database built in {r['built']:.1f} s)")
        print(f"  GET / document                  {r['size'] / 1024:.0f} KiB")
        print(f"  navigation -> first byte        {median_text(r['first'], 1000, 'ms')}")
        print(f"  navigation -> table rendered    {median_text(r['rendered'], 1000, 'ms')}")
        print(f"  poll, nothing changed           {median_text(r['idle'], 1, 'B')}")
        print(f"  poll, one shown stack changed   {median_text(r['changed'], 1 / 1024, 'KiB', 1)}")
        print(f"  elements entering the page      {median_text(r['added'], 1, '')}")
        print(f"  write -> row shows it           {median_text(r['shown'], 1000, 'ms')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--spacing-ms", type=float, default=50.0)
    parser.add_argument(
        "--scale",
        help="only the console at scale: comma-separated stack counts (e.g. 1000,10000)",
    )
    parser.add_argument("--rounds", type=int, default=7, help="rounds of each --scale figure")
    args = parser.parse_args()
    if args.scale:
        scale_main([int(n) for n in args.scale.split(",")], args.rounds)
        return
    print(
        f"machine: {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable),"
        f" Python {platform.python_version()}, {platform.platform()}"
    )
    print(f"peak RSS at start: {rss_mb():.0f} MiB")
    tmp = Path(tempfile.mkdtemp(prefix="stackctl-bench-ui-"))
    server = None
    db: Database | None = None
    try:
        db = Database(db_path=tmp / "stackctl.db")
        start = time.perf_counter()
        build(db, args.stacks)
        built = time.perf_counter() - start
        view = stacks_view(db)
        c = view.counts
        print(
            f"database: {args.stacks} stacks x 2 versions built in {built:.1f} s; counts:"
            f" total {c.total}, synced {c.synced}, out of sync {c.out_of_sync},"
            f" degraded {c.degraded}, failed {c.failed}; peak RSS {rss_mb():.0f} MiB"
        )

        server = start_server(create_app(db_path=tmp / "stackctl.db"), host="127.0.0.1", port=0)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        rows: list[tuple[str, str]] = []
        page = measure_http(conn, "/", 200, args.requests)
        rows += [
            (f"GET / ({page[2] / 1024:.0f} KiB) first byte", figures(page[0])),
            ("GET / full response", figures(page[1])),
        ]
        table = measure_http(conn, "/ui/stacks/table", 200, args.requests)
        rows += [
            (f"GET /ui/stacks/table ({table[2] / 1024:.0f} KiB) first byte", figures(table[0])),
            ("GET /ui/stacks/table full response", figures(table[1])),
        ]
        _, _, body = timed_get(conn, "/ui/stacks/table", 200)
        found = re.search(rb"since=([0-9a-f]+)", body)
        if found is None:
            raise SystemExit("no since= in the table fragment's hx-get")
        since = found.group(1).decode()
        poll = measure_http(conn, f"/ui/stacks/table?since={since}", 204, args.requests)
        rows += [("GET /ui/stacks/table?since=<same> (204) full", figures(poll[1]))]
        conn.close()
        for label, times in server_side(db, args.requests).items():
            rows.append((f"in process: {label}", figures(times)))
        rss_http = rss_mb()

        stream = measure_stream(db, "127.0.0.1", server.port, args.lines, args.spacing_ms / 1000)
        shown = measure_browser(db, server.url, args.lines, args.spacing_ms / 1000)
        print()
        print(
            f"console with {args.stacks} stacks, {args.requests} requests each after"
            f" {WARMUPS} warm-ups (goal: under 200 ms server time)"
        )
        width = max(len(label) for label, _ in rows)
        for label, text in rows:
            print(f"  {label:<{width}}  {text}")
        if shown is not None:
            print()
            print(f"the stacks page in chromium, {LOADS} loads")
            print(f"  navigation -> first byte      {figures(shown['first_byte'])}")
            print(f"  navigation -> load event end  {figures(shown['loaded'])}")
        print()
        print(
            f"live log: {args.lines} lines written {args.spacing_ms:.0f} ms apart"
            " (goal: under 250 ms from add() to the browser)"
        )
        if stream["delays"]:
            print(f"  add() -> data: line arrived  {figures(stream['delays'])}")
        if stream["missing"]:
            print(f"  LINES NEVER ARRIVED: {stream['missing']} of {args.lines}")
        if stream["end_delay"] is None:
            print(
                f"  event: end NEVER ARRIVED (reader alive: {stream['alive']},"
                f" error: {stream['error']!r})"
            )
        else:
            print(f"  complete() -> event: end     {stream['end_delay'] * 1000:.1f} ms")
        if stream["error"] is not None:
            print(f"  stream reader error: {stream['error']!r}")
        if shown is None:
            print("  in chromium: skipped (no chromium or playwright; scripts/browser.sh)")
        else:
            print(f"  add() -> row in chromium's page  {figures(shown['delays'])}")
            if shown["missing"]:
                print(f"  ROWS NEVER SHOWN: {shown['missing']} of {args.lines}")
            print(f"  complete() -> DONE shown in chromium  {shown['end_delay']:.0f} ms")
        print()
        print(
            f"peak RSS: {rss_http:.0f} MiB after the HTTP runs, {rss_mb():.0f} MiB at the end"
            " (client, server and database in this one process)"
        )
    finally:
        if server is not None:
            server.stop()
        if db is not None:
            db.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
