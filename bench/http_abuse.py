"""The HTTP API under three floods (issue 24, item 5): ``/healthz`` p95 and the controller's
resident memory under each, and how many lines its log gets.

For each phase a real ``stackctl run`` is started (a subprocess on a temporary state directory,
its API on a free loopback port, its descriptors limited to ``--nofile`` as systemd's default
soft limit would) and attacked for ``--duration`` seconds:

- ``baseline``: nothing but the probe;
- ``slow``: ``--slow`` senders each announce a 5 MiB webhook body and send it slowly;
- ``idle``: ``--idle`` connections that open and send nothing;
- ``unsigned``: ``--unsigned`` senders post unsigned 5 MB JSON bodies as fast as they are
  answered;
- ``forged``: as many senders post 5 MB JSON bodies with a wrong signature (their bodies must be
  read and checked against the followed repository's secret).
The controller follows one repository (a local bare one, fetched once an hour) with a webhook
secret, so that a signature is checked as in production.
Attackers come back as attackers do: a closed or refused connection is opened again after a
second. A probe thread GETs ``/healthz`` on a new connection every 50 ms (2 s timeout: a timeout
counts as 2,000 ms and as a failure); ``VmRSS`` of ``/proc/PID/status`` is read at the same
pace. Prints one row per phase with the goal beside each figure (p95 <= 50 ms, RSS <= 250 MiB,
at most one log line per kind per minute), and with ``--json`` the same as JSON.

Run: ``.venv/bin/python bench/http_abuse.py`` (100 slow, 1,100 idle, 4 unsigned, 10 s each).
Against another tree: ``PYTHONPATH=/path/to/tree .venv/bin/python bench/http_abuse.py``. Needs
the Docker engine the controller talks to. Asserts nothing about time.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's queue: drop this folder from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import asyncio
import contextlib
import functools
import json
import math
import multiprocessing
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field

print = functools.partial(print, flush=True)  # figures must survive a kill

MIB = 1024 * 1024
BODY = 5 * MIB
PROBE_EVERY = 0.05
PROBE_TIMEOUT = 2.0
RECONNECT_AFTER = 1.0
GOAL_P95_MS = 50.0
GOAL_RSS_MIB = 250.0
LOG_INTERVAL = 60.0  # the controller's: one line per kind per this many seconds


@dataclass
class Phase:
    name: str
    attackers: int
    p95_ms: float = 0.0
    probe_failures: int = 0
    probes: int = 0
    rss_mib_max: float = 0.0
    log_lines: int = 0
    log_bytes: int = 0
    answering: bool = False  # /healthz answered after the phase
    answers: dict[str, int] = field(default_factory=dict)  # status line -> count

    def goals(self, duration: float) -> dict[str, bool]:
        kinds_allowed = 2 * math.ceil(duration / LOG_INTERVAL)  # asyncio's and uvicorn's
        return {
            "p95": self.p95_ms <= GOAL_P95_MS,
            "rss": self.rss_mib_max <= GOAL_RSS_MIB,
            "log": self.log_lines <= kinds_allowed,
        }


# -- the controller --------------------------------------------------------------------------


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_repository(state: Path) -> Path:
    """A bare repository with one commit (no stacks), and the webhook secret's file."""
    work, bare = state / "work", state / "origin.git"
    quiet = {"check": True, "capture_output": True}
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], **quiet)
    (work / "README").write_text("bench\n")
    git = ["git", "-C", str(work), "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    subprocess.run([*git, "add", "README"], **quiet)
    subprocess.run([*git, "commit", "-q", "-m", "bench"], **quiet)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], **quiet)
    (state / "hook-secret").write_text("bench-secret\n")
    return bare


def start_controller(state: Path, *, port: int, nofile: int) -> subprocess.Popen[bytes]:
    manifests = state / "manifests"
    manifests.mkdir()
    origin = make_repository(state)
    log = (state / "controller.log").open("wb")

    def limit_descriptors() -> None:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(nofile, hard), hard))

    args = [sys.executable, "-m", "controller", "run", "--manifests", str(manifests),
            "--db", str(state / "db" / "stackctl.db"), "--api", f"127.0.0.1:{port}",
            "--git-url", str(origin), "--git-interval", "3600",
            "--git-webhook-secret-file", str(state / "hook-secret")]  # fmt: skip
    # cwd: `python -m` puts it first on the path; PYTHONPATH must choose the tree under test.
    proc = subprocess.Popen(
        args, stdout=log, stderr=subprocess.STDOUT, preexec_fn=limit_descriptors, cwd=state
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the controller exited:\n{(state / 'controller.log').read_text()}")
        if probe_once(port) is not None:
            time.sleep(2.0)  # its start-up lines (following the repository...) before a phase
            return proc
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the controller did not answer /healthz within 60 s")


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def probe_once(port: int) -> float | None:
    """Milliseconds for GET /healthz on a new connection, None when it failed."""
    started = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=PROBE_TIMEOUT) as sock:
            sock.settimeout(PROBE_TIMEOUT)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
    except OSError:
        return None
    if not answer.startswith(b"HTTP/1.1 200"):
        return None
    return (time.monotonic() - started) * 1000


# -- the attacks -----------------------------------------------------------------------------


def _hook_headers(length: int, *, signed: bool = False) -> bytes:
    signature = f"X-Hub-Signature-256: sha256={'0' * 64}\r\n" if signed else ""
    return (
        "POST /api/v1/hooks/git HTTP/1.1\r\nHost: 127.0.0.1\r\nX-GitHub-Event: push\r\n"
        f"{signature}Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def _status(answer: bytes) -> str:
    line = answer.split(b"\r\n", 1)[0].decode("latin-1")
    return line[9:12] if line.startswith("HTTP/1.1 ") else "closed"


async def _read_answer(reader: asyncio.StreamReader) -> str:
    try:
        return _status(await reader.readuntil(b"\r\n\r\n"))
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
        return "closed"


async def slow_sender(port: int, answers: dict[str, int], stop: asyncio.Event, pace: float) -> None:
    """Announce 5 MiB, then send 64 KiB every ``pace`` seconds."""
    chunk = b" " * (64 * 1024)
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            answers["connect failed"] = answers.get("connect failed", 0) + 1
            await asyncio.sleep(RECONNECT_AFTER)
            continue
        answer = asyncio.ensure_future(_read_answer(reader))
        try:
            writer.write(_hook_headers(BODY, signed=True))
            sent = 0
            while sent < BODY and not stop.is_set() and not answer.done():
                writer.write(chunk)
                await writer.drain()
                sent += len(chunk)
                await asyncio.wait([answer], timeout=pace)
        except OSError:
            pass
        status = await answer if answer.done() else "unanswered"
        answer.cancel()
        answers[status] = answers.get(status, 0) + 1
        writer.close()
        await asyncio.sleep(RECONNECT_AFTER)


async def idle_connection(port: int, answers: dict[str, int], stop: asyncio.Event) -> None:
    """Open a connection and send nothing; again when it is closed."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            answers["connect failed"] = answers.get("connect failed", 0) + 1
            await asyncio.sleep(RECONNECT_AFTER)
            continue
        read = asyncio.ensure_future(_read_answer(reader))
        await asyncio.wait([read, asyncio.ensure_future(stop.wait())],
                           return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        status = read.result() if read.done() else "held"
        read.cancel()
        answers[status] = answers.get(status, 0) + 1
        writer.close()
        await asyncio.sleep(RECONNECT_AFTER)


def unsigned_json(size: int = BODY) -> bytes:
    """A push-shaped JSON document of ``size`` bytes made of many small objects (slow to
    parse, as a real attacker would pick)."""
    head = b'{"ref": "refs/heads/main", "after": "' + b"0" * 40 + b'", "commits": ['
    item = b'{"id": 1, "a": [1, 2, 3]},'
    count = (size - len(head) - 3) // len(item)
    body = head + item * count + b'{}]}'
    return body + b" " * (size - len(body))


async def json_sender(
    port: int, answers: dict[str, int], stop: asyncio.Event, *, signed: bool
) -> None:
    """Post 5 MB JSON bodies, unsigned or with a wrong signature, one after the other."""
    body = unsigned_json()
    request = _hook_headers(len(body), signed=signed) + body
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            answers["connect failed"] = answers.get("connect failed", 0) + 1
            await asyncio.sleep(RECONNECT_AFTER)
            continue
        answer = asyncio.ensure_future(_read_answer(reader))  # may come before the body ends
        with contextlib.suppress(OSError):
            writer.write(request)
            await writer.drain()
        status = await answer
        writer.close()
        answers[status] = answers.get(status, 0) + 1
        if status in ("closed", "503"):
            await asyncio.sleep(RECONNECT_AFTER)


async def attack(phase: Phase, port: int, duration: float) -> None:
    stop = asyncio.Event()
    match phase.name:
        case "slow":
            pace = 2 * duration / (BODY / (64 * 1024))  # half the body in the phase
            tasks = [slow_sender(port, phase.answers, stop, pace) for _ in range(phase.attackers)]
        case "idle":
            tasks = [idle_connection(port, phase.answers, stop) for _ in range(phase.attackers)]
        case "unsigned" | "forged":
            signed = phase.name == "forged"
            tasks = [
                json_sender(port, phase.answers, stop, signed=signed)
                for _ in range(phase.attackers)
            ]
        case _:
            tasks = []
    running = [asyncio.ensure_future(task) for task in tasks]
    await asyncio.sleep(duration)
    stop.set()
    await asyncio.wait(running, timeout=5) if running else None
    for task in running:
        task.cancel()


# -- measuring -------------------------------------------------------------------------------


def run_phase(phase: Phase, *, port: int, pid: int, duration: float, log: Path) -> Phase:
    log_start = log.stat().st_size
    samples: list[float] = []
    done = threading.Event()

    def probe() -> None:
        while not done.is_set():
            started = time.monotonic()
            took = probe_once(port)
            phase.probes += 1
            if took is None:
                phase.probe_failures += 1
            samples.append(PROBE_TIMEOUT * 1000 if took is None else took)
            phase.rss_mib_max = max(phase.rss_mib_max, rss_mib(pid))
            done.wait(max(0.0, PROBE_EVERY - (time.monotonic() - started)))

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    # The attackers in a process of their own, so that the probe shares no GIL with them.
    results: multiprocessing.Queue[dict[str, int]] = multiprocessing.Queue()
    attacker = multiprocessing.Process(
        target=_attack_process, args=(phase.name, phase.attackers, port, duration, results)
    )
    attacker.start()
    phase.answers = results.get(timeout=duration + 60)
    attacker.join()
    done.set()
    prober.join()
    if samples:
        phase.p95_ms = statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]
    with log.open("rb") as handle:
        handle.seek(log_start)
        written = handle.read()
    phase.log_bytes = len(written)
    phase.log_lines = written.count(b"\n")
    return phase


def _attack_process(
    name: str, attackers: int, port: int, duration: float, results: multiprocessing.Queue
) -> None:
    raise_own_descriptor_limit(attackers)
    phase = Phase(name, attackers)
    asyncio.run(attack(phase, port, duration))
    results.put(phase.answers)


def raise_own_descriptor_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, wanted + 1000), hard))


def report(phases: list[Phase], duration: float) -> None:
    mark = {True: "ok", False: "OVER"}
    print(f"{'phase':<10} {'attackers':>9} {'healthz p95':>12} {'(<= 50 ms)':<10} "
          f"{'failed':>7} {'max RSS':>9} {'(<= 250 MiB)':<12} {'log lines':>9} "
          f"{'log bytes':>10} {'(1/kind/min)':<12} answers")  # fmt: skip
    for p in phases:
        goals = p.goals(duration)
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(p.answers.items()))
        print(f"{p.name:<10} {p.attackers:>9} {p.p95_ms:>9.1f} ms {mark[goals['p95']]:<10} "
              f"{p.probe_failures:>3}/{p.probes:<3} {p.rss_mib_max:>5.0f} MiB "
              f"{mark[goals['rss']]:<12} {p.log_lines:>9} {p.log_bytes:>10} "
              f"{mark[goals['log']]:<12} {answers}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slow", type=int, default=100, help="slow 5 MiB senders")
    parser.add_argument("--idle", type=int, default=1100, help="idle connections")
    parser.add_argument("--unsigned", type=int, default=4, help="unsigned 5 MB JSON senders")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    parser.add_argument("--nofile", type=int, default=1024,
                        help="the controller's descriptor limit (systemd's default soft one)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--keep", action="store_true", help="keep the state directory")
    args = parser.parse_args()

    phases = [Phase("baseline", 0), Phase("slow", args.slow), Phase("idle", args.idle),
              Phase("unsigned", args.unsigned), Phase("forged", args.unsigned)]  # fmt: skip
    alive = True
    for phase in phases:  # a controller of its own each, so that no phase inherits another's
        state = Path(tempfile.mkdtemp(prefix="stackctl-http-abuse-"))
        port = free_port()
        proc = start_controller(state, port=port, nofile=args.nofile)
        try:
            run_phase(phase, port=port, pid=proc.pid, duration=args.duration,
                      log=state / "controller.log")  # fmt: skip
            phase.answering = proc.poll() is None and probe_once(port) is not None
            alive = alive and phase.answering
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if args.keep:
                print(f"{phase.name}: state kept in {state}")
            else:
                shutil.rmtree(state, ignore_errors=True)
    print(f"http_abuse: {args.duration:g} s per phase, a new controller each, descriptors <="
          f" {args.nofile}, every one answering /healthz at the end: {'yes' if alive else 'NO'}")
    report(phases, args.duration)
    if args.json:
        print(json.dumps({"alive": alive, "duration": args.duration,
                          "phases": [asdict(p) | {"goals": p.goals(args.duration)}
                                     for p in phases]}))  # fmt: skip
    return 0 if alive else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
