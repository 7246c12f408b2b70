"""``stackctl run --notify json://...`` killed with SIGKILL at random moments while a stack is
edited: every transition is told, and told once. A repeat after a kill (sent, killed before it
was recorded as sent) carries the same ``X-Stackctl-Delivery`` key, so a receiver drops it:
counted by key, each transition is exactly one message. A destination answering 500 and one
that hangs delay nothing: the stack converges meanwhile."""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from helpers.controller_process import ControllerProcess, wait_for
from helpers.recorder import Recorder

pytestmark = [pytest.mark.engine, pytest.mark.slow]


def manifest(root: Path, name: str, image: str, value: str) -> None:
    doc = {
        "apiVersion": "stackctl/v1",
        "kind": "Stack",
        "metadata": {"name": name},
        "spec": {
            "compose": {
                "services": {
                    "web": {
                        "image": image,
                        "pull_policy": "never",
                        "command": ["sleep", "3600"],
                        "environment": {"EDIT": value},
                    }
                }
            }
        },
    }
    (root / f"{name}.yaml").write_text(yaml.safe_dump(doc))


def converged(proc: ControllerProcess, name: str, version: str) -> bool:
    with proc.db() as db:
        stack = db.stacks.get(name)
        return bool(stack and stack.applied_version == version and stack.current_version == version)


def all_sent(proc: ControllerProcess) -> bool:
    with proc.db() as db:
        counts = db.outbox.counts()
        return bool(counts) and all(status == "SENT" for _, status in counts)


def test_each_transition_is_told_once_across_sigkills(tmp_path, engine_janitor, test_images):
    rng = random.Random()
    recorder = Recorder()
    recorder.answer("/broken", 500)
    recorder.hold("/hanging")
    root = tmp_path / "manifests"
    root.mkdir()
    name = engine_janitor.project("told")
    extra = (
        "--no-api",
        "--notify",
        f"json://{recorder.base}/hook",
        "--notify",
        f"apply.failed=json://{recorder.base}/broken",
        "--notify",
        f"json://{recorder.base}/hanging",
    )
    proc = ControllerProcess(root, tmp_path / "stackctl.db", extra=extra)
    try:
        manifest(root, name, test_images.v1, "0")
        proc.start()
        wait_for(lambda: converged(proc, name, "v1"), what="v1 applied")
        for edit in range(1, 5):
            manifest(root, name, test_images.v2 if edit % 2 else test_images.v1, str(edit))
            time.sleep(rng.uniform(0, 1.5))  # somewhere in recording, applying or telling
            assert proc.stop(signal.SIGKILL) == -signal.SIGKILL
            proc.start()
            wait_for(
                lambda e=edit: converged(proc, name, f"v{e + 1}"), what=f"v{edit + 1}", timeout=90
            )
        with proc.db() as db:
            keys = {m["key"] for m in db.outbox.messages(limit=1000)}
            recorded = {v.version for v in db.stack_versions.list(name)}
        assert recorded == {f"v{n}" for n in range(1, 6)}
        wait_for(
            lambda: {r.headers["x-stackctl-delivery"] for r in recorder.received("/hook")} >= keys,
            what="every message at /hook",
            timeout=60,
        )
    finally:
        recorder.release()
        proc.stop()
        recorder.stop()
    hook = recorder.received("/hook")
    by_key = Counter(r.headers["x-stackctl-delivery"] for r in hook)
    assert set(by_key) == keys  # nothing lost, nothing that was not in the outbox
    repeats = {k: n for k, n in by_key.items() if n > 1}
    assert sum(n - 1 for n in repeats.values()) <= 4, repeats  # at most one per kill
    # One key per version recorded: v1..v5 each told once.
    recorded_keys = [k for k in by_key if k.startswith("version:")]
    assert sorted(recorded_keys) == [f"version:{name}:v{n}" for n in range(1, 6)]
    # Every applied version was told applied (the last one at least, whatever the kills cut).
    succeeded = [r for r in hook if r.headers["x-stackctl-event"] == "apply.succeeded"]
    assert any(f"{name} v5 applied" in r.json()["message"] for r in succeeded)
    assert recorder.received("/broken") == []  # it asked for failures only; there were none
