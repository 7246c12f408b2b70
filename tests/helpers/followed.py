"""A real HTTP API (uvicorn on a loopback port) in front of a real ``Sources`` that follows
repositories, for the webhook and probe tests: what a forge or a stranger on the network sees.

The repositories' URLs point nowhere reachable (their fetches fail at once, which is what a
readiness check with a fetch error needs); their fetch interval is an hour, so nothing else runs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.db import Database
from controller.desired.repository_spec import RepositorySpec
from controller.sources.following import Declared, Sources
from controller.sources.puller import GitStats
from controller.sources.watcher import Claims
from controller.web.api import create_app, start_server


@dataclass(frozen=True)
class Followed:
    url: str  # the API's base URL
    sources: Sources
    stats: GitStats


@contextmanager
def serving_followed(
    *,
    tmp_path: Path,
    db: Database,
    db_path: Path,
    repositories: Mapping[str, tuple[str, bytes]],
    token: str | None = None,
    server_options: Mapping[str, Any] | None = None,
    **app_options: Any,
) -> Iterator[Followed]:
    """Follow ``repositories`` (name -> (URL, webhook secret)) and serve the API over them
    (``server_options`` go to ``start_server``, the rest to ``create_app``)."""
    stats = GitStats()
    sources = Sources(
        db, state_dir=tmp_path / "git", claims=Claims(), on_enqueue=lambda: None, stats=stats
    )
    sources.update(
        {
            name: Declared(
                RepositorySpec(name=name, url=url, interval_s=3600), "test", secret=secret
            )
            for name, (url, secret) in repositories.items()
        }
    )
    app = create_app(
        db_path=db_path,
        token=token,
        readiness=lambda: {"database": True, "repositories": sources.readiness()},
        on_push=sources.receive_push,
        git_stats=stats.snapshot,
        **app_options,
    )
    server = start_server(app, host="127.0.0.1", port=0, **(server_options or {}))
    try:
        yield Followed(url=server.url, sources=sources, stats=stats)
    finally:
        server.stop()
        sources.stop_all()


def github_headers(secret: bytes, body: bytes, *, delivery: str = "d-1") -> dict[str, str]:
    """What GitHub sends with ``body`` when its webhook has ``secret`` (JSON content type)."""
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest(),
    }
