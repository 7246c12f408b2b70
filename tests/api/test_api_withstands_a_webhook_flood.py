"""Over real HTTP (uvicorn on a loopback port, a real ``Sources`` behind the hook), what a flood
of connections and bodies may cost: bodies beyond the in-flight budget are refused (503) before
they are read, a body that does not arrive in time is 408, headers that never end get 408 and
the connection is closed, beyond the connection cap the connection that waited longest without
a request makes room, an unsigned body is answered unread, and repeated accept failures are
logged once per interval. Small figures and short deadlines; nothing here measures time
(``bench/http_abuse.py`` does, and a small run of it is the last test)."""

from __future__ import annotations

import json
import logging
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from helpers.controller_process import wait_for
from helpers.followed import github_headers, serving_followed

from controller.web.api.connections import OncePerInterval, is_server_noise
from controller.web.api.limits import HookLimits

KIB = 1024
FOLLOWED = "https://127.0.0.1:9/ops/infra.git"
SECRET = b"flood-secret"
BENCH = Path(__file__).resolve().parents[2] / "bench" / "http_abuse.py"


def _hook_request(length: int, *, signed: bool = True) -> bytes:
    signature = f"X-Hub-Signature-256: sha256={'0' * 64}\r\n" if signed else ""
    return (
        "POST /api/v1/hooks/git HTTP/1.1\r\nHost: 127.0.0.1\r\nX-GitHub-Event: push\r\n"
        f"{signature}Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=20)
    sock.settimeout(20)
    return sock


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    got = b""
    while chunk := sock.recv(65536):
        got += chunk
    return got


def _serving(tmp_path, db, db_path, **options):
    return serving_followed(
        tmp_path=tmp_path, db=db, db_path=db_path,
        repositories={"infra": (FOLLOWED, SECRET)}, **options,
    )  # fmt: skip


def test_bodies_beyond_the_budget_are_503_unread_and_the_api_keeps_answering(
    tmp_path, db, db_path
) -> None:
    limits = HookLimits(body_budget=1024 * KIB, body_timeout=30)
    with _serving(tmp_path, db, db_path, hook_limits=limits) as served:
        holder = _connect(served.url)  # holds 700 KiB of the budget, sends 1 KiB of it
        holder.sendall(_hook_request(700 * KIB) + b" " * KIB)

        def refused() -> bytes | None:
            with _connect(served.url) as other:
                other.sendall(_hook_request(700 * KIB))
                answer = _answer(other)  # 408 after 30 s if the budget let it in
            return answer if answer.startswith(b"HTTP/1.1 503") else None

        answer = wait_for(refused, what="a body beyond the budget to be refused")
        assert b"retry-after: 5" in answer.lower() and b"connection: close" in answer.lower()
        assert b"too many webhook bodies" in answer
        with httpx.Client(base_url=served.url, timeout=10) as http:
            assert http.get("/healthz").status_code == 200
            holder.close()  # its reservation goes back
            body = json.dumps({"ref": "refs/heads/main", "after": "a" * 40,
                               "repository": {"full_name": "ops/infra",
                                              "clone_url": FOLLOWED}}).encode()  # fmt: skip
            headers = github_headers(SECRET, body)

            def accepted() -> httpx.Response | None:
                answer = http.post("/api/v1/hooks/git", content=body, headers=headers)
                return answer if answer.status_code == 202 else None

            good = wait_for(accepted, what="the budget to be given back")
            assert good.json()["repository"] == "infra"


def test_a_body_that_does_not_arrive_in_time_is_408(tmp_path, db, db_path) -> None:
    limits = HookLimits(body_timeout=0.5)
    with _serving(tmp_path, db, db_path, hook_limits=limits) as served, _connect(
        served.url
    ) as sock:
        sock.sendall(_hook_request(1000) + b"{")
        answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"did not arrive within 0.5s" in answer


def test_an_unsigned_body_is_answered_unread_with_the_one_refusal(tmp_path, db, db_path) -> None:
    with _serving(tmp_path, db, db_path) as served:
        with _connect(served.url) as sock:
            sock.sendall(_hook_request(4 * 1024 * KIB, signed=False))  # and never the body
            answer = _answer(sock)
        assert answer.startswith(b"HTTP/1.1 401"), answer
        assert b"no followed repository's webhook secret signs this delivery" in answer
        with httpx.Client(base_url=served.url, timeout=10) as http:
            metrics = http.get("/metrics").text
        assert 'stackctl_webhook_requests_total{provider="github",result="unauthorized"} 1.0' in (
            metrics
        )


def test_headers_that_never_end_get_408_and_the_connection_is_closed(
    tmp_path, db, db_path
) -> None:
    with _serving(tmp_path, db, db_path, server_options={"header_timeout": 0.5}) as served:
        with _connect(served.url) as sock:
            sock.sendall(b"POST /api/v1/hooks/git HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            answer = _answer(sock)
        assert answer.startswith(b"HTTP/1.1 408"), answer
        with _connect(served.url) as silent:  # never a byte: the same
            assert _answer(silent).startswith(b"HTTP/1.1 408")
        with httpx.Client(base_url=served.url, timeout=10) as http:
            assert http.get("/healthz").status_code == 200  # a request in time is served


def test_beyond_the_connection_cap_the_longest_waiting_connection_makes_room(
    tmp_path, db, db_path
) -> None:
    options = {"header_timeout": 60, "max_connections": 4}
    with _serving(tmp_path, db, db_path, server_options=options) as served:
        idle = []
        for _ in range(4):
            idle.append(_connect(served.url))
            time.sleep(0.05)  # in order: the first waits longest
        with httpx.Client(base_url=served.url, timeout=10) as http:
            assert http.get("/healthz").status_code == 200
        assert _answer(idle[0]).startswith(b"HTTP/1.1 408")  # closed to make room
        for sock in idle:
            sock.close()


def test_repeated_accept_failures_are_one_line_per_interval() -> None:
    now = [1000.0]
    quiet = OncePerInterval(interval=60, kinds=is_server_noise, clock=lambda: now[0])
    logger = logging.getLogger("asyncio.flood-test")  # asyncio's kind, kept to this test
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Keep()
    logger.addHandler(handler)
    logger.addFilter(quiet)
    logger.propagate = False
    try:
        for _ in range(1000):
            try:
                raise OSError(24, "Too many open files")
            except OSError:
                logger.error(
                    "socket.accept() out of system resource\nsocket: <fd=7>", exc_info=True
                )
        now[0] += 61
        logger.error("socket.accept() out of system resource\nsocket: <fd=7>")
        logger.error("something else entirely")
    finally:
        logger.removeHandler(handler)
    assert len(lines) == 3, lines
    assert all("\n" not in line and "Traceback" not in line for line in lines)
    assert "Too many open files" in lines[0]
    assert "999 more like it in the last 60s not logged" in lines[1]
    assert lines[2] == "something else entirely"


@pytest.mark.engine
def test_the_abuse_bench_runs_small_and_the_controller_holds(tmp_path) -> None:
    """``bench/http_abuse.py`` with small figures (as CI runs it): the controller still answers
    at the end, bodies beyond the budget got 503, unsigned ones 401, the log stayed quiet."""
    args = [sys.executable, str(BENCH), "--slow", "12", "--idle", "60", "--unsigned", "2",
            "--duration", "3", "--json"]  # fmt: skip
    run = subprocess.run(args, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout + run.stderr
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["alive"] is True
    phases = {p["name"]: p for p in figures["phases"]}
    assert phases["slow"]["answers"].get("503", 0) > 0  # 12 x 5 MiB > the 32 MiB budget
    assert set(phases["unsigned"]["answers"]) <= {"401", "closed"}
    assert phases["unsigned"]["answers"].get("401", 0) > 0
    assert phases["forged"]["answers"].get("401", 0) > 0
    for phase in phases.values():
        assert phase["goals"]["log"], phase
        assert re.fullmatch(r"\d+", str(phase["log_lines"]))
