"""A stack's target is kept: a manifest that moves a converged stack to another engine fails
its command saying where it runs and where the manifest points (nothing is torn down or
created), and a target no ``--engines`` file declares fails at once with the declared names,
without a retry. Neither needs the other engine to answer: both are decided before it is
asked anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.harness import make_harness

from controller.backends.docker import Engine
from controller.backends.engines import Engines
from controller.desired.engine_spec import EngineSpec
from controller.models import CommandStatus

pytestmark = pytest.mark.engine

SLEEPER = {"command": ["sleep", "3600"], "init": True}
# Declared, never reachable: nothing may be asked of it in these tests.
ELSEWHERE = EngineSpec(name="edge", host="tcp://127.0.0.1:9")


def test_moving_a_stack_is_refused_and_changes_nothing(
    tmp_path: Path, engine_janitor: Any, test_images: Any
) -> None:
    local = Engine()
    h = make_harness(tmp_path, engine=Engines({"edge": ELSEWHERE}, local=local))
    try:
        name = engine_janitor.project("shop")
        services = {"services": {"app": {"image": test_images.v1, **SLEEPER}}}
        assert h.apply(h.stack(name, services)).command.status is CommandStatus.DONE
        before = {c.name: c.id for c in local.observe(name).containers}
        local.calls.reset()
        moved = h.apply(h.stack(name, services, target={"engine": "edge"}))
        assert moved.command.status is CommandStatus.FAILED
        assert "runs on engine 'local' and its manifest now says 'edge'" in (moved.error or "")
        assert "`stackctl move " in (moved.error or "")
        assert moved.command.attempts == 1  # permanent: not retried
        assert local.calls.mutating == 0
        assert {c.name: c.id for c in local.observe(name).containers} == before
    finally:
        h.db.close()


def test_an_undeclared_engine_fails_at_once_naming_the_declared_ones(
    tmp_path: Path, engine_janitor: Any, test_images: Any
) -> None:
    h = make_harness(tmp_path, engine=Engines({"edge": ELSEWHERE}, local=Engine()))
    try:
        name = engine_janitor.project("shop")
        services = {"services": {"app": {"image": test_images.v1, **SLEEPER}}}
        outcome = h.apply(h.stack(name, services, target={"engine": "lab"}))
        assert outcome.command.status is CommandStatus.FAILED
        assert "engine 'lab' is not declared (declared: local, edge" in (outcome.error or "")
        assert outcome.command.attempts == 1
    finally:
        h.db.close()
