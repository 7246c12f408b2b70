"""The walkthroughs in examples/sources and examples/rollback run as written on the real
engine, and leave nothing behind: the four source forms each converge and answer on their
port; a rollback is applied and pins the stack, and resume returns to the files.

The examples' stack names are fixed (a person runs them as they are), so each test has a
janitor for those names: it checks that the script's own cleanup removed everything, and
removes whatever a failed run left.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.engine, pytest.mark.slow]

EXAMPLES = Path(__file__).parents[2] / "examples"
SOURCE_STACKS = ("example-inline", "example-composefile", "example-project", "example-plain")


def run_walkthrough(name: str) -> subprocess.CompletedProcess[str]:
    stackctl = Path(sys.executable).with_name("stackctl")
    return subprocess.run(
        ["bash", str(EXAMPLES / name / "walkthrough.sh")],
        env={**os.environ, "STACKCTL": str(stackctl)},
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.fixture
def example_stacks(engine_janitor_factory: Callable[..., object]) -> Iterator[Callable]:
    """``left(*names)``: what exists on the engine for those stacks; at teardown, whatever
    happened, everything of the stacks asked about is removed."""
    janitors = {}

    def left(*names: str) -> dict[str, dict[str, list[str]]]:
        found = {}
        for name in names:
            # The prefix is the whole name followed by Compose's separators ("-", "_").
            janitor = janitors.setdefault(name, engine_janitor_factory(prefix=name))
            found[name] = {kind: objs for kind, objs in janitor.leftovers().items() if objs}
        return {name: objs for name, objs in found.items() if objs}

    yield left
    problems = [p for janitor in janitors.values() for p in janitor.cleanup()]
    assert problems == []


def test_the_four_source_forms_converge_and_answer(example_stacks) -> None:
    assert example_stacks(*SOURCE_STACKS) == {}, "an earlier run left these; remove them"
    done = run_walkthrough("sources")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for stack in SOURCE_STACKS:
        assert f"OK {stack} " in done.stdout
        assert f"{stack}: converged" in done.stdout
        assert f"{stack}: unchanged (v1)" in done.stdout
    for port in (8471, 8472, 8473, 8474):
        assert f"127.0.0.1:{port}  <html><body>stackctl test image 1" in done.stdout
    assert "walkthrough done" in done.stdout
    assert example_stacks(*SOURCE_STACKS) == {}


def test_a_rollback_is_applied_pinned_and_resumed(example_stacks) -> None:
    assert example_stacks("example-rollback") == {}, "an earlier run left it; remove it"
    done = run_walkthrough("rollback")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    pages = [line for line in done.stdout.splitlines() if line.startswith("http://127.0.0.1")]
    # v1, v2, the rollback to v1, still v1 while pinned, v4 after resume
    assert [page.split("image ")[1][0] for page in pages] == ["1", "2", "1", "1", "2"]
    assert "rolled back to v1 as v3; pinned" in done.stdout
    assert "rollback to v1" in done.stdout  # the comment of v3 in the history
    assert "walkthrough done" in done.stdout
    assert example_stacks("example-rollback") == {}
