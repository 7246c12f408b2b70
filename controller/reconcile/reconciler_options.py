"""``ReconcilerOptions``: how the reconciler works (where files go, its waits, its workers);
made from the settings by the daemon and the CLI (``controller.reconcile.reconciler``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ReconcilerOptions:
    root: Path = Path("manifests")  # for versions recorded without a root
    files_dir: Path = Path("storage/files")
    lease_seconds: float = 30.0
    wait_timeout: float = 120.0  # depends_on waits and the final health wait
    parallelism: int = 4
    worker_limit: int = 1  # commands running at once across all workers
    max_failures: int = 5  # failed attempts (transient errors) before a command FAILS
    progress_every: float = 10.0  # seconds between "still waiting" log lines
    # The controller's workers end a health wait early when other work waits for a worker
    # (a follow-up RECONCILE looks again), and put a command whose depends_on wait lasts back
    # in the queue (``controller.reconcile.turns``); the CLI, converging its own stacks, waits them
    # out.
    yield_health_wait: bool = False
    follow_up_after: float = 10.0  # seconds before that follow-up RECONCILE
