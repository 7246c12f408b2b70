"""Chaos: ``stackctl run`` SIGKILLed N times at random moments while ~8 stacks are edited, then
checked against the engine and the database (issue 9, item 3: a SIGKILL loses nothing).

Each round makes one or two random edits (a service's replicas, environment, or image between
``stackctl-test/busybox:1`` and ``:2``; a service added or removed; a manifest deleted, never the
last one, or re-added), waits a random 0-1.5 s, SIGKILLs the controller by its pid and starts it
again; about one round in five edits and kills while the new controller is still starting. Then
the last controller runs until no command is PENDING or RUNNING (``--settle`` s), and it checks:
every present stack applied at its current version, Synced and Healthy, a deleted one applied at
none; per service exactly ``replicas`` containers ``<stack>-<service>-<n>``, running, with the
file's image and environment, no second container in a (service, number) slot (duplicates),
nothing of a removed service, surplus replica or deleted stack, no ``<stack>_default`` network of
a deleted stack (leftovers); no command FAILED, PENDING or RUNNING (stuck); the controller never
exited by itself (crashes).

Prints a line per round, the summary ``chaos: N=100 kills, 8 stacks, 0 FAILED, 0 duplicates,
0 leftovers, 0 stuck, 0 wrong, 0 crashes; settled in X s`` and, for each problem, its detail and
evidence (the stack's commands and their log lines, as ``stackctl command-logs ID`` prints
them). Exit 0 when every count is zero, 1 otherwise, 2 without an engine or the test images.

Stacks are ``<prefix>-s<i>`` (``chaos`` + 8 random hex unless ``--prefix``); whatever happens
(a failure, Ctrl-C, SIGTERM) the controller is stopped and every container, network and volume
of the prefix is removed, and the temporary folder unless ``--keep``. The controller runs with
``--resync 3600`` so that a periodic resync cannot hide a lost or wedged command.

Run: ``.venv/bin/python bench/chaos.py [--kills 100] [--stacks 8] [--seed S] [--keep]
[--workers 2] [--settle 120] [--prefix P]``. Needs ``scripts/engine.sh``; asserts no timing.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's queue: drop this folder from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import contextlib
import ctypes
import dataclasses
import functools
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections import defaultdict
from typing import Any

import docker
import docker.errors
import yaml

from controller.db import Database
from controller.models import Command, CommandStatus, HealthStatus, SyncStatus

IMAGES = ("stackctl-test/busybox:1", "stackctl-test/busybox:2")
SERVICE_NAMES = ("web", "api", "worker", "cache", "db")
PROJECT = "com.docker.compose.project"
ENV_KEY = "CHAOS_VALUE"
COUNTS = ("FAILED", "duplicates", "leftovers", "stuck", "wrong", "crashes")
print = functools.partial(print, flush=True)  # the rounds must survive a kill of this script


@dataclasses.dataclass(frozen=True)
class Service:
    image: str
    replicas: int
    env: str

    def compose(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "pull_policy": "never",
            "init": True,  # tini forwards SIGTERM: stopping takes no 10 s grace period
            "command": ["sh", "-c", "sleep 3600"],
            "environment": {ENV_KEY: self.env},
            "deploy": {"replicas": self.replicas},
        }


@dataclasses.dataclass  # mutable on purpose: it is the file, edited round after round
class StackFile:
    name: str
    services: dict[str, Service]
    present: bool = True

    def manifest(self) -> str:
        services = {n: s.compose() for n, s in sorted(self.services.items())}
        return yaml.safe_dump(
            {
                "apiVersion": "stackctl/v1",
                "kind": "Stack",
                "metadata": {"name": self.name},
                "spec": {"compose": {"services": services}},
            },
            sort_keys=False,
        )


class WontStart(Exception):
    """The controller exited by itself three times in a row: no round can go on."""


def _die_with_parent() -> None:
    """In the child: the kernel SIGKILLs it if this script dies, so no controller outlives us."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class ControllerUnderTest:
    """``stackctl run`` as a subprocess; its incarnations append to one log file."""

    def __init__(self, root: Path, db: Path, *, workers: int, resync: float) -> None:
        self.log = db.with_suffix(".log")
        self.args = [sys.executable, "-m", "controller", "run", "--manifests", str(root),
                     "--db", str(db), "--resync", str(resync), "--debounce", "50",
                     "--workers", str(workers), "--no-api"]  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None
        self.incarnation = 0
        self._offset = 0

    def start(self) -> None:
        self.incarnation += 1
        with self.log.open("a") as out:
            out.write(f"=== chaos: incarnation {self.incarnation} ===\n")
        self._offset = self.log.stat().st_size
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.args, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
            )

    def wait_ready(self, timeout: float = 60) -> bool:
        """True once this incarnation logs ``controller running``; False if it exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "controller running" in self.output():
                return True
            if self.exited() is not None:
                return False
            time.sleep(0.02)
        return False

    def output(self) -> str:
        with self.log.open("rb") as f:
            f.seek(self._offset)
            return f.read().decode(errors="replace")

    def exited(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def kill(self) -> int | None:
        """SIGKILL by pid; returns the exit code if it had already exited by itself."""
        assert self.proc is not None
        code = self.proc.poll()
        if code is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        return code

    def stop(self) -> None:
        """SIGTERM, SIGKILL after 30 s: this process only, by its pid."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


class Chaos:
    def __init__(self, args: argparse.Namespace, work: Path, client: docker.DockerClient) -> None:
        self.args, self.client, self.prefix = args, client, args.prefix
        self.rng = random.Random(args.seed)
        self.root, self.db_path = work / "manifests", work / "stackctl.db"
        self.root.mkdir()
        self.controller = ControllerUnderTest(
            self.root, self.db_path, workers=args.workers, resync=args.resync
        )
        self.stacks = [
            StackFile(f"{self.prefix}-s{i}", {n: self._service() for n in self._names()})
            for i in range(args.stacks)
        ]
        self.problems: dict[str, list[str]] = defaultdict(list)
        self.suspects: set[str] = set()  # stacks whose evidence is printed
        self.flagged: set[int] = set()  # commands whose log lines are printed
        self.settled: float | None = None

    def _names(self) -> list[str]:
        return self.rng.sample(SERVICE_NAMES, self.rng.randint(1, 2))

    def _service(self) -> Service:
        return Service(self.rng.choice(IMAGES), self.rng.randint(1, 2), self._value())

    def _value(self) -> str:
        # "v" first: PyYAML writes "1091e4" unquoted (a string in YAML 1.1) and the loader reads
        # it as Compose does (YAML 1.2), as the number 10910000
        return f"v{self.rng.getrandbits(24):06x}"

    def _problem(self, kind: str, stack: str | None, message: str) -> None:
        self.problems[kind].append(message)
        if stack:
            self.suspects.add(stack)

    # -- the files ----------------------------------------------------------------------------

    def write(self, stack: StackFile) -> None:
        path = self.root / f"{stack.name}.yaml"
        if not stack.present:
            path.unlink(missing_ok=True)
            return
        temp = self.root / f".{stack.name}.yaml.tmp"  # hidden: the watcher ignores it
        temp.write_text(stack.manifest())
        os.replace(temp, path)

    def edit(self) -> str:
        """One random change to one stack's file; says what it did."""
        present = [s for s in self.stacks if s.present]
        absent = [s for s in self.stacks if not s.present]
        kinds = {"replicas": 3, "env": 3, "image": 3, "add": 1.5, "remove": 1.5}
        if len(present) > 1:  # an empty directory deletes nothing (by design): keep one
            kinds["delete"] = 1
        if absent:
            kinds["readd"] = 2
        kind = self.rng.choices(list(kinds), weights=list(kinds.values()))[0]
        stack = self.rng.choice(absent if kind == "readd" else present)
        what = self._mutate(stack, kind)
        self.write(stack)
        return f"{stack.name} {what}"

    def _mutate(self, stack: StackFile, kind: str) -> str:
        name = self.rng.choice(sorted(stack.services))
        old = stack.services[name]
        if kind == "remove" and len(stack.services) == 1:
            kind = "add"
        if kind == "add" and len(stack.services) >= 3:
            kind = "remove"
        match kind:
            case "replicas":
                replicas = self.rng.choice([n for n in (1, 2, 3) if n != old.replicas])
                stack.services[name] = dataclasses.replace(old, replicas=replicas)
                return f"{name} replicas {old.replicas}->{replicas}"
            case "env":
                stack.services[name] = dataclasses.replace(old, env=self._value())
                return f"{name} env {ENV_KEY}={stack.services[name].env}"
            case "image":
                image = IMAGES[old.image == IMAGES[0]]
                stack.services[name] = dataclasses.replace(old, image=image)
                return f"{name} image {old.image[-1]}->{image[-1]}"
            case "add":
                new = self.rng.choice([n for n in SERVICE_NAMES if n not in stack.services])
                stack.services[new] = self._service()
                return f"add service {new} (x{stack.services[new].replicas})"
            case "remove":
                del stack.services[name]
                return f"remove service {name}"
            case "delete" | "readd":
                stack.present = kind == "readd"
                return f"{kind} manifest ({', '.join(sorted(stack.services))})"
        raise AssertionError(kind)

    # -- the rounds ---------------------------------------------------------------------------

    def run(self) -> None:
        for stack in self.stacks:
            self.write(stack)
        self.controller.start()
        self._ready()
        first = self._settle()
        print(
            f"chaos: {len(self.stacks)} stacks written, first convergence: "
            + (f"{first:.1f} s" if first is not None else "NOT settled")
        )
        ready = True
        for round_ in range(1, self.args.kills + 1):
            if ready:
                self._ready()
            edits = [self.edit() for _ in range(self.rng.choice((1, 1, 2)))]
            delay = self.rng.uniform(0, 1.5)
            time.sleep(delay)
            pid = self.controller.proc.pid if self.controller.proc else 0
            code = self.controller.kill()
            if code is not None:
                self._crashed(f"exit code {code}")
            print(
                f"round {round_}/{self.args.kills}: {'; '.join(edits)}; SIGKILL pid {pid} "
                f"{delay:.2f} s after the edit{'' if ready else ', while starting'}"
            )
            ready = round_ == self.args.kills or self.rng.random() >= 0.2
            self.controller.start()
        self._ready()
        self.settled = self._settle()

    def _ready(self) -> None:
        """The current controller is running; one that exits by itself is a crash, restarted."""
        for _ in range(3):
            if self.controller.wait_ready():
                return
            code = self.controller.kill()
            self._crashed("not running within 60 s" if code is None else f"exit code {code}")
            self.controller.start()
        raise WontStart(f"chaos: the controller does not start: see {self.controller.log}")

    def _crashed(self, why: str) -> None:
        tail = "\n      ".join(self.controller.output().splitlines()[-15:])
        self._problem(
            "crashes",
            None,
            f"incarnation {self.controller.incarnation}: {why}; its last lines:\n      {tail}",
        )
        print(f"chaos: the controller stopped by itself ({why})")

    def _settle(self) -> float | None:
        """Seconds until no command was PENDING or RUNNING for 1.5 s; None after --settle s."""
        started = time.monotonic()
        quiet: float | None = None
        with Database(db_path=self.db_path) as db:
            while (now := time.monotonic()) - started < self.args.settle:
                if self.controller.exited() is not None:
                    self._crashed(f"exit code {self.controller.kill()}")
                    self.controller.start()
                    self._ready()
                counts = db.commands.count_by_status()
                if counts.get(CommandStatus.PENDING) or counts.get(CommandStatus.RUNNING):
                    quiet = None
                elif quiet is None:
                    quiet = now
                elif now - quiet >= 1.5:
                    return quiet - started
                time.sleep(0.25)
        return None

    # -- the checks ---------------------------------------------------------------------------

    def check_database(self) -> None:
        with Database(db_path=self.db_path) as db:
            for status in (CommandStatus.FAILED, CommandStatus.PENDING, CommandStatus.RUNNING):
                for command in _commands(db, status=status):
                    kind = "FAILED" if status is CommandStatus.FAILED else "stuck"
                    self._problem(kind, command.stack_id, _describe(command))
                    self.flagged.add(command.command_id or 0)
            rows = {s.stack_id: s for s in db.stacks.list()}
        for stack in self.stacks:
            row = rows.get(stack.name)
            if row is None:
                if stack.present:
                    self._problem("wrong", stack.name, f"{stack.name}: not in the database")
                continue
            state = (
                f"applied {row.applied_version}, current {row.current_version}, "
                f"sync {row.sync_status}, health {row.health_status}"
            )
            converged = (row.current_version, row.sync_status, row.health_status) == (
                row.applied_version, SyncStatus.SYNCED, HealthStatus.HEALTHY
            )  # fmt: skip
            if stack.present and not (row.current_version and converged):
                self._problem("wrong", stack.name, f"{stack.name}: {state}")
            elif not stack.present and row.applied_version is not None:
                self._problem("wrong", stack.name, f"{stack.name}: manifest deleted; {state}")

    def check_engine(self) -> None:
        api = self.client.api
        image_of = {api.inspect_image(ref)["Id"]: ref for ref in IMAGES}
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for c in api.containers(all=True):
            project = (c.get("Labels") or {}).get(PROJECT, "")
            if project.startswith(self.prefix) or _name(c).startswith(self.prefix):
                found[project or _name(c)].append(c)
        networks = {n["Name"] for n in api.networks() if n["Name"].startswith(self.prefix)}
        for project in sorted(set(found) - {s.name for s in self.stacks}):
            for c in found[project]:
                self._problem("leftovers", None, f"{_name(c)} of unknown project {project!r}")
        for network in sorted(networks - {f"{s.name}_default" for s in self.stacks}):
            self._problem("leftovers", None, f"network {network} of no stack")
        for stack in self.stacks:
            network = f"{stack.name}_default"
            if not stack.present:
                for c in found.get(stack.name, []):
                    self._problem("leftovers", stack.name, f"{stack.name}: deleted; {_name(c)}")
                if network in networks:
                    self._problem("leftovers", stack.name, f"{stack.name}: deleted; {network}")
                continue
            if network not in networks:
                self._problem("wrong", stack.name, f"{stack.name}: no network {network}")
            slots: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
            for c in found.get(stack.name, []):
                labels = c.get("Labels") or {}
                service = labels.get("com.docker.compose.service", "?")
                number = int(labels.get("com.docker.compose.container-number") or 0)
                wanted = stack.services.get(service)
                if wanted is None or not 1 <= number <= wanted.replicas:
                    why = "service not in the file" if wanted is None else "surplus replica"
                    self._problem("leftovers", stack.name, f"{stack.name}: {_name(c)}: {why}")
                else:
                    slots[(service, number)].append(c)
            for service, wanted in sorted(stack.services.items()):
                for number in range(1, wanted.replicas + 1):
                    holders = slots.get((service, number), [])
                    self._check_slot(
                        f"{stack.name}-{service}-{number}",
                        wanted,
                        holders,
                        stack=stack.name,
                        image_of=image_of,
                    )

    def _check_slot(
        self,
        expected: str,
        wanted: Service,
        holders: list[dict[str, Any]],
        *,
        stack: str,
        image_of: dict[str, str],
    ) -> None:
        if not holders:
            self._problem("wrong", stack, f"{expected}: missing")
            return
        keep = next((c for c in holders if _name(c) == expected), holders[0])
        for c in holders:
            if c is not keep:
                created = time.strftime("%H:%M:%S", time.localtime(c.get("Created", 0)))
                self._problem(
                    "duplicates",
                    stack,
                    f"{expected}: slot also held by {_name(c)} ({c['Id'][:12]}, "
                    f"{c.get('State')}, created {created})",
                )
        problems = [] if _name(keep) == expected else [f"named {_name(keep)}"]
        if keep.get("State") != "running":
            problems.append(f"{keep.get('State')} ({keep.get('Status')})")
        image = image_of.get(keep.get("ImageID", ""), keep.get("ImageID"))
        if image != wanted.image:
            problems.append(f"image {image}, the file says {wanted.image}")
        with contextlib.suppress(docker.errors.NotFound):
            env = self.client.api.inspect_container(keep["Id"])["Config"].get("Env") or []
            if f"{ENV_KEY}={wanted.env}" not in env:
                have = [e for e in env if e.startswith(ENV_KEY)]
                problems.append(f"env {have}, the file says {ENV_KEY}={wanted.env}")
        if problems:
            self._problem("wrong", stack, f"{expected}: " + "; ".join(problems))

    # -- the report ---------------------------------------------------------------------------

    def report(self) -> bool:
        """Print the summary, the problems and their evidence; True when there is none."""
        settled = "NOT settled" if self.settled is None else f"settled in {self.settled:.1f} s"
        counts = ", ".join(f"{len(self.problems.get(k, []))} {k}" for k in COUNTS)
        print(
            f"chaos: N={self.args.kills} kills, {len(self.stacks)} stacks, {counts}; "
            f"{settled} (seed {self.args.seed}, prefix {self.prefix})"
        )
        for kind in COUNTS:
            for message in self.problems.get(kind, []):
                print(f"  {kind}: {message}")
        if self.suspects:
            print(
                f"evidence (database {self.db_path};"
                " `stackctl command-logs ID --db DB` prints these):"
            )
            with Database(db_path=self.db_path) as db:
                for name in sorted(self.suspects):
                    self._evidence(db, name)
        return not any(self.problems.values())

    def _evidence(self, db: Database, name: str) -> None:
        row = db.stacks.get(name)
        versions = ", ".join(v.version for v in db.stack_versions.list(name))
        print(
            f"== {name}: versions {versions or 'none'}; "
            + (
                f"current {row.current_version}, applied {row.applied_version}, sync "
                f"{row.sync_status}, health {row.health_status}, last error {row.last_error!r}"
                if row
                else "no row"
            )
        )
        commands = list(reversed(_commands(db, stack_id=name)))
        for command in commands:
            print(f"   {_describe(command)}")
        flagged = [c.command_id or 0 for c in commands if c.command_id in self.flagged]
        for command_id in flagged or [c.command_id or 0 for c in commands[-2:]]:
            print(f"   -- stackctl command-logs {command_id}:")
            for line in db.command_logs.list(command_id):
                print(f"      {line.ts:%H:%M:%S.%f} {line.level} {line.message}")
        self._controller_lines(name, flagged)

    def _controller_lines(self, name: str, command_ids: list[int]) -> None:
        """The controller's own lines about the stack around each flagged command's queueing
        (who queued it, what ran meanwhile): the command log does not say that."""
        mention = re.compile(rf"{re.escape(name)}(?![\w-])")
        lines = [line for line in self.controller.log.read_text().splitlines()
                 if mention.search(line) or line.startswith("=== chaos")]  # fmt: skip
        for command_id in command_ids:
            queued = next((i for i, line in enumerate(lines)
                           if f"queued command {command_id}:" in line), None)  # fmt: skip
            if queued is not None:
                print(f"   -- {self.controller.log.name} around the queueing of {command_id}:")
                for line in lines[max(0, queued - 8) : queued + 16]:
                    print(f"      {line[11:] if line[:1].isdigit() else line}")


def _commands(db: Database, **filters: Any) -> list[Command]:
    """Every command matching ``filters`` (all pages), newest first."""
    found: list[Command] = []
    cursor = None
    while True:
        page = db.commands.list(limit=500, cursor=cursor, **filters)
        found.extend(page.items)
        if not (cursor := page.next_cursor):
            return found


def _describe(command: Command) -> str:
    return (
        f"command {command.command_id} {command.type} {command.stack_id} {command.status} "
        f"attempts {command.attempts} created {command.created_at:%H:%M:%S.%f} "
        f"error {command.error!r}"
    )


def _name(container: dict[str, Any]) -> str:
    return (container.get("Names") or ["/?"])[0].lstrip("/")


def clean_engine(client: docker.DockerClient, prefix: str) -> list[str]:
    """Remove every container, network and volume of ``prefix`` (label or name); what stays."""
    api = client.api

    def ours(labels: dict[str, str] | None, name: str) -> bool:
        return (labels or {}).get(PROJECT, "").startswith(prefix) or name.startswith(prefix)

    errors: list[str] = []
    for attempt in range(5):
        errors = []
        removals = [
            (
                f"container {_name(c)}",
                functools.partial(api.remove_container, c["Id"], v=True, force=True),
            )
            for c in api.containers(all=True)
            if ours(c.get("Labels"), _name(c))
        ]
        removals += [
            (f"network {n['Name']}", functools.partial(api.remove_network, n["Id"]))
            for n in api.networks()
            if ours(n.get("Labels"), n["Name"])
        ]
        removals += [
            (f"volume {v['Name']}", functools.partial(api.remove_volume, v["Name"], force=True))
            for v in api.volumes().get("Volumes") or []
            if ours(v.get("Labels"), v["Name"])
        ]
        for what, remove in removals:
            try:
                remove()
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                errors.append(f"{what}: {exc}")
        if not errors:
            return []
        time.sleep(0.5 * (attempt + 1))
    return errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=100, help="rounds, one SIGKILL each")
    parser.add_argument("--stacks", type=int, default=8)
    parser.add_argument("--seed", type=int, default=None, help="default: random (printed)")
    parser.add_argument("--keep", action="store_true", help="keep manifests, database, log")
    parser.add_argument("--workers", type=int, default=2, help="the controller's --workers")
    parser.add_argument("--resync", type=float, default=3600, help="the controller's --resync")
    parser.add_argument("--settle", type=float, default=120, help="seconds allowed to settle")
    parser.add_argument("--prefix", default=None, help="stack name prefix (unique per run)")
    args = parser.parse_args(argv)
    args.seed = secrets.randbelow(2**31) if args.seed is None else args.seed
    args.prefix = args.prefix or "chaos" + secrets.token_hex(4)
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,49}", args.prefix):
        parser.error("--prefix: lowercase [a-z0-9][a-z0-9_-]*, at most 50 characters")
    try:
        client = docker.from_env(timeout=120)
        for ref in IMAGES:
            client.images.get(ref)
    except docker.errors.DockerException as exc:
        print(f"chaos: no engine or no test image ({exc}); run scripts/engine.sh")
        return 2

    def interrupted(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")  # so that the cleanup below runs

    signal.signal(signal.SIGTERM, interrupted)
    work = Path(tempfile.mkdtemp(prefix="stackctl-chaos-"))
    chaos: Chaos | None = None
    try:
        print(f"chaos: seed {args.seed}, prefix {args.prefix}, work folder {work}")
        chaos = Chaos(args, work, client)
        try:
            chaos.run()
        except WontStart as exc:
            print(exc)
            chaos.report()
            return 1
        chaos.check_database()
        chaos.check_engine()
        return 0 if chaos.report() else 1
    except KeyboardInterrupt as exc:
        print(f"chaos: interrupted ({exc or 'Ctrl-C'}); cleaning up")
        return 130
    finally:
        if chaos is not None:
            chaos.controller.stop()
        for problem in clean_engine(client, args.prefix):
            print(f"chaos: cleanup: could not remove {problem}")
        if args.keep:
            print(f"chaos: kept {work} (manifests/, stackctl.db, stackctl.log)")
        else:
            shutil.rmtree(work, ignore_errors=True)
        client.close()


if __name__ == "__main__":
    sys.exit(main())
