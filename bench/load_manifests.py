"""How long does loading a watched root take? ``python bench/load_manifests.py [N ...]``

Generates N stacks of 5 services each (a third Stack manifests with inline compose, a third
project folders with a ``.env`` and an env file, a third plain compose files) in a temporary
directory, then times ``load_root``: discovery, parsing, interpolation, validation,
normalization and digests. Prints the best of three runs per N, for a full load and for the
watcher's cached reload (``LoadCache``) of an unchanged root and of a root where one file
changed (what the watcher pays after an edit).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from controller.source import LoadCache, load_root

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


def generate(root: Path, count: int) -> None:
    for n in range(count):
        body = compose_text(n)
        if n % 3 == 0:
            inline = "\n".join("      " + line for line in body.splitlines())
            (root / f"stack{n}.yaml").write_text(
                f"apiVersion: stackctl/v1\nkind: Stack\nmetadata:\n  name: stack{n}\n"
                f"spec:\n  env: {{TAG: '2.{n}'}}\n  compose:\n{inline}\n"
            )
        elif n % 3 == 1:
            folder = root / f"stack{n}"
            folder.mkdir()
            (folder / "compose.yaml").write_text(body)
            (folder / ".env").write_text(f"TAG=3.{n}\nLEVEL=debug\n")
        else:
            (root / f"stack{n}.yml").write_text(body)


def best_of_three(load) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        load()
        best = min(best, time.perf_counter() - start)
    return best


def measure(count: int) -> tuple[float, float, float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root, count)
        full = best_of_three(lambda: load_root(root))
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
        return full, unchanged, changed, services


def main(argv: list[str]) -> None:
    counts = [int(arg) for arg in argv] or [10, 100, 1000]
    print(
        f"{'stacks':>7} {'services':>9} {'full s':>8} {'ms/stack':>9}"
        f" {'cached: unchanged s':>20} {'one file changed s':>19}"
    )
    for count in counts:
        full, unchanged, changed, services = measure(count)
        print(
            f"{count:>7} {services:>9} {full:>8.3f} {full / count * 1000:>9.2f}"
            f" {unchanged:>20.3f} {changed:>19.3f}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
