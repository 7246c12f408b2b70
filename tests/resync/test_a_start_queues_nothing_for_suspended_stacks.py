"""A controller start queues an APPLY for every stack whose desired version is not applied
(what a kill lost), but none for a suspended one (issue 24, item 1): 10,000 stacks suspended in
their manifests were 10,000 APPLYs at every start, each recording that nothing changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.seeding import SLEEPER
from helpers.stacks import desired_stack

from controller.backends.docker import Engine
from controller.daemon.process import Controller, DaemonOptions
from controller.db import Database
from controller.sources.versions import record_version


def test_unapplied_suspended_stacks_get_no_apply_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    path = tmp_path / "stackctl.db"
    compose = {"services": {"web": {"image": "stackctl-test/busybox:1", **SLEEPER}}}
    with Database(db_path=path) as db:
        for name, spec in (("ordinary", {}), ("declared", {"suspend": True}), ("flagged", {})):
            record_version(db, desired_stack(tmp_path, name, compose, **spec), root=tmp_path)
        db.stacks.update("flagged", suspended=True)  # its RECONCILE done, say
    root = tmp_path / "manifests"
    root.mkdir()
    controller = Controller(DaemonOptions(manifests=root, db=path, allow_empty=True),
                            engine=Engine(timeout=2))
    try:
        controller.queue_unapplied()
        applies = [c.stack_id for c in controller.db.commands.list(limit=100).items
                   if c.type == "APPLY_STACK_VERSION"]
    finally:
        controller.db.close()
    assert applies == ["ordinary"]
