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

No engine needed. Run: ``.venv/bin/python bench/ui.py [--stacks N] [--requests R]
[--lines M]``. Prints figures; asserts nothing about time.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--spacing-ms", type=float, default=50.0)
    args = parser.parse_args()
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
