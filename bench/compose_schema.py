"""What checking the Compose Specification's schema costs: ``python bench/compose_schema.py``.

Prints, for a one-service stack folder (written to a temporary directory): the schema's first
read and compile (jsonschema-rs, then jsonschema), one verdict of each validator on the
interpolated document, and ``load_path`` of the folder with the check and with it replaced by
a no-op, in alternating rounds of the same process (medians), so that both meet the same
machine load.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import controller.sources.loader.compiler as compiler
from controller.sources.loader import load_path
from controller.sources.loader.specification import (
    check_specification,
    schema_validator,
    verdict_validator,
)

COMPOSE = """\
services:
  web:
    image: nginx:1.27
    ports: ["8080:80"]
    environment: {MODE: prod}
    healthcheck: {test: ["CMD", "true"], interval: 10s, retries: 3}
    deploy: {resources: {limits: {cpus: "0.5", memory: 256m}}}
"""
DOC = {
    "services": {
        "web": {
            "image": "nginx:1.27",
            "ports": ["8080:80"],
            "environment": {"MODE": "prod"},
            "healthcheck": {"test": ["CMD", "true"], "interval": "10s", "retries": 3},
            "deploy": {"resources": {"limits": {"cpus": "0.5", "memory": "256m"}}},
        }
    }
}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def timed(fn, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    start = time.perf_counter()
    verdict_validator()
    print(f"jsonschema-rs import, read and compile: {ms(time.perf_counter() - start)}")
    start = time.perf_counter()
    schema_validator()
    print(f"jsonschema import, read and compile:    {ms(time.perf_counter() - start)}")
    rs = timed(lambda: verdict_validator().is_valid(DOC), 2000)
    py = timed(lambda: list(schema_validator().iter_errors(DOC)), 500)
    print(f"one verdict, median: jsonschema-rs {ms(rs)}, jsonschema {ms(py)}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "web"
        folder.mkdir()
        (folder / "compose.yaml").write_text(COMPOSE)
        assert load_path(folder).stacks, "the bench stack must load"
        checked: list[float] = []
        unchecked: list[float] = []
        for _ in range(40):
            for check, out in (
                (check_specification, checked),
                (lambda doc, issues: set(), unchecked),
            ):
                compiler.check_specification = check
                out.append(timed(lambda: load_path(folder), 10))
        compiler.check_specification = check_specification
    print(
        "load_path of a one-service folder, median: with the check"
        f" {ms(statistics.median(checked))}, without {ms(statistics.median(unchecked))}"
    )


if __name__ == "__main__":
    main()
