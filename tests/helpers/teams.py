"""People and policies for the teams tests: stacks recorded with labels, an access policy
file, and a console session of a person signed in (as the OpenID Connect callback opens one)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from controller.db import Database
from controller.sources.loader import load_path
from controller.sources.versions import record_version
from controller.web.api.identity import COOKIE, session_hash
from helpers.seeding import mark_applied

PROVIDER = "test-provider-digest"  # app.state.oidc_digest of the tests' apps

POLICY = {
    "kind": "AccessPolicy",
    "bindings": [
        {"groups": ["ops"], "role": "operator", "stacks": {"labels": {"team": "shop"}}},
        {"groups": ["dev"], "role": "viewer"},
        {"groups": ["admins"], "role": "admin"},
    ],
}


def write_policy(folder: Path, policy: dict[str, Any] | None = None) -> Path:
    path = folder / "access.yaml"
    path.write_text(yaml.safe_dump(policy or POLICY))
    return path


def record_labelled(
    db: Database, tmp: Path, name: str, labels: dict[str, str], *, image: str, applied: bool = True
) -> str:
    """A new version of stack ``name`` with ``metadata.labels``; applied when ``applied``."""
    folder = tmp / f"src-{name}-{image.replace('/', '_').replace(':', '_')}"
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {
        "apiVersion": "stackctl/v1",
        "kind": "Stack",
        "metadata": {"name": name, "labels": labels},
        "spec": {"compose": {"services": {"web": {"image": image, "command": ["sleep", "1"]}}}},
    }
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(manifest))
    result = load_path(folder)
    assert not result.errors, [e.render() for e in result.errors]
    version = record_version(db, result.stacks[name], root=folder)
    assert version is not None and version.version is not None
    if applied:
        mark_applied(db, name, version.version)
    return version.version


def person_cookie(db: Database, who: str, groups: tuple[str, ...]) -> dict[str, str]:
    """The cookie of a console session of ``who`` signed in with ``groups``."""
    session_id = secrets.token_urlsafe(32)
    db.console_sessions.open(
        session_hash=session_hash(session_id),
        token_digest=PROVIDER,
        lifetime=timedelta(hours=1),
        who=who,
        groups=groups,
    )
    return {COOKIE: session_id}


def write_routes(app: Any, prefix: str) -> set[str]:
    """The paths under ``prefix`` of ``app`` that take POST, PUT, PATCH or DELETE (FastAPI
    keeps included routers' routes behind ``effective_route_contexts``)."""
    found: set[str] = set()
    for route in app.routes:
        contexts = (
            route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else []
        )
        for context in contexts:
            methods = getattr(context.original_route, "methods", None) or set()
            if methods & {"POST", "PUT", "PATCH", "DELETE"} and context.path.startswith(prefix):
                found.add(context.path)
    return found
