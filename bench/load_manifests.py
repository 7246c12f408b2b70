"""How long does loading a watched root take? ``python bench/load_manifests.py [N ...]``

Generates N stacks of 5 services each (a third Stack manifests with inline compose, a third
project folders with a ``.env`` and an env file, a third plain compose files) in a temporary
directory, then times ``load_root``: discovery, parsing, interpolation, validation,
normalization and digests. Prints the best of three runs per N, for a full load and for the
watcher's cached reload (``LoadCache``) of an unchanged root and of a root where one file
changed (what the watcher pays after an edit).

In the same run it times docker-compose 1.29's own load of the same stacks (Debian's
``docker-compose`` package, a Python module run by ``/usr/bin/python3`` in a subprocess, since
it is not in our virtualenv): ``compose.config.config.load`` of each stack's compose file with
the ``.env`` beside it: parsing, interpolation, schema validation and normalization. A
manifest's inline compose document is written out as a compose file with its ``spec.env`` as
the ``.env`` for it. Its three full loads alternate with ours, so that both meet the same
machine load, and the ratio of the two bests is the steadier number on a busy machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from controller.sources.loader import LoadCache, load_root

SERVICE = """\
  {name}:
    image: "registry.local/{name}:${{TAG:-1.0}}"
    command: ["serve", "--port", "80{i}"]
    ports: ["127.0.0.1:{port}:80{i}", "{port2}:9000/udp"]
    environment: [MODE=prod, SERVICE={name}, "LEVEL=${{LEVEL:-info}}"]
    labels: {{team: web, tier: "{i}"}}
    volumes: [data:/var/lib/{name}, ./conf:/etc/{name}:ro]
    healthcheck: {{test: "wget -q -O- localhost:80{i}", interval: 10s, retries: 3}}
    deploy: {{replicas: 2, resources: {{limits: {{cpus: "0.5", memory: 256m}}}}}}
    restart: unless-stopped
{depends}"""


def compose_text(stack: int) -> str:
    services = []
    for i in range(5):
        depends = f"    depends_on: [svc{i - 1}]\n" if i else ""
        port = 10000 + (stack * 10 + i) % 50000
        services.append(
            SERVICE.format(name=f"svc{i}", i=i, port=port, port2=port + 1, depends=depends)
        )
    return "services:\n" + "".join(services) + "volumes:\n  data: {}\n"


def generate(root: Path, count: int, *, compose_view: Path | None = None) -> list[list[str]]:
    """The stacks under ``root``; with ``compose_view``, what docker-compose loads for each:
    (its project folder, its compose file), the manifests' compose parts written out there."""
    jobs = []
    for n in range(count):
        body = compose_text(n)
        if n % 3 == 0:
            inline = "\n".join("      " + line for line in body.splitlines())
            (root / f"stack{n}.yaml").write_text(
                f"apiVersion: stackctl/v1\nkind: Stack\nmetadata:\n  name: stack{n}\n"
                f"spec:\n  env: {{TAG: '2.{n}'}}\n  compose:\n{inline}\n"
            )
            if compose_view is not None:
                folder = compose_view / f"stack{n}"
                folder.mkdir()
                (folder / "compose.yaml").write_text(body)
                (folder / ".env").write_text(f"TAG=2.{n}\n")
                jobs.append([str(folder), "compose.yaml"])
        elif n % 3 == 1:
            folder = root / f"stack{n}"
            folder.mkdir()
            (folder / "compose.yaml").write_text(body)
            (folder / ".env").write_text(f"TAG=3.{n}\nLEVEL=debug\n")
            jobs.append([str(folder), "compose.yaml"])
        else:
            (root / f"stack{n}.yml").write_text(body)
            jobs.append([str(root), f"stack{n}.yml"])
    return jobs


# Run by /usr/bin/python3 (docker-compose 1.29 is a module of Debian's Python, not of ours):
# reads the (folder, file) pairs as its first line, then for each further line loads them all
# once and prints the seconds it took.
COMPOSE_LOAD = """
import json, sys, time
from compose.config import config
from compose.config.environment import Environment
jobs = json.loads(sys.stdin.readline())
for _ in sys.stdin:
    start = time.perf_counter()
    for folder, file in jobs:
        config.load(config.find(folder, [file], Environment.from_env_file(folder)))
    print(time.perf_counter() - start, flush=True)
"""


class ComposeLoad:
    """docker-compose's full load of the same stacks, one round at a time, so that its rounds
    alternate with ours and both meet the same load on a busy machine."""

    def __init__(self, jobs: list[list[str]]) -> None:
        try:
            self._process: subprocess.Popen[str] | None = subprocess.Popen(
                ["/usr/bin/python3", "-c", COMPOSE_LOAD],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        except OSError:
            self._process = None
            return
        self._ask(json.dumps(jobs))

    def _ask(self, line: str) -> None:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(line + "\n")
        self._process.stdin.flush()

    def once(self) -> float | None:
        """Seconds for one full load; None when docker-compose is not installed (or failed)."""
        if self._process is None or self._process.poll() is not None:
            return None
        self._ask("load")
        assert self._process.stdout is not None
        answer = self._process.stdout.readline()
        return float(answer) if answer else None

    def close(self) -> None:
        if self._process is not None:
            if self._process.stdin is not None:
                self._process.stdin.close()
            self._process.wait()


def best_of_three(load) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        load()
        best = min(best, time.perf_counter() - start)
    return best


def measure(count: int) -> tuple[float, float, float, int, float | None]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        view = Path(tmp) / "compose-view"
        root.mkdir()
        view.mkdir()
        jobs = generate(root, count, compose_view=view)
        full, compose = float("inf"), float("inf")
        theirs = ComposeLoad(jobs)
        try:
            for _ in range(3):  # best of three, ours and docker-compose's in turn
                start = time.perf_counter()
                load_root(root)
                full = min(full, time.perf_counter() - start)
                compose = min(compose, theirs.once() or float("inf"))
        finally:
            theirs.close()
        cache = LoadCache()
        result = load_root(root, cache=cache)
        if result.errors or len(result.stacks) != count:
            raise SystemExit(f"benchmark input is invalid: {result.errors[:3]}")
        unchanged = best_of_three(lambda: load_root(root, cache=cache))
        edited = root / "stack0.yaml"
        original = edited.read_text()
        edits = iter(range(10, 13))

        def one_change() -> None:  # a new image tag in one manifest, then the reload
            edited.write_text(original.replace("TAG: '2.", f"TAG: '{next(edits)}."))
            load_root(root, cache=cache)

        changed = best_of_three(one_change)
        services = sum(len(s.compose.services) for s in result.stacks.values())
        return full, unchanged, changed, services, compose if compose < float("inf") else None


def main(argv: list[str]) -> None:
    counts = [int(arg) for arg in argv] or [10, 100, 1000]
    print(
        f"{'stacks':>7} {'services':>9} {'full s':>8} {'ms/stack':>9}"
        f" {'cached: unchanged s':>20} {'one file changed s':>19}"
        f" {'docker-compose ms/stack':>24} {'ratio':>6}"
    )
    for count in counts:
        full, unchanged, changed, services, compose = measure(count)
        theirs = (
            f"{compose / count * 1000:>24.2f} {compose / full:>5.1f}x"
            if compose is not None
            else f"{'n/a':>24} (apt-get install docker-compose)"
        )
        print(
            f"{count:>7} {services:>9} {full:>8.3f} {full / count * 1000:>9.2f}"
            f" {unchanged:>20.3f} {changed:>19.3f} {theirs}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
