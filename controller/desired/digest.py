"""Canonical JSON and the hashes computed over it.

``canonical_json`` is ``json.dumps`` with sorted keys, ``separators=(",", ":")`` and UTF-8 kept as
is; a digest is the SHA-256 hex of its UTF-8 bytes. ``config_hash(service)`` is the per-service hash
(docs/architecture.md, "Decisions the code relies on"): the canonical service without the fields
that must not force a recreate (``replicas``, ``depends_on``, ``pull_policy``; profiles never reach
the canonical model). Env files, secrets and configs are in it through their content hashes, which
the canonical service carries. Pure functions only.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from controller.desired.compose import Service

NOT_RECREATING = frozenset({"replicas", "depends_on", "pull_policy"})


def canonical_json(data: Any) -> str:
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def config_hash(service: Service) -> str:
    """SHA-256 hex of the service's canonical spec minus the fields that scale or order it."""
    return sha256_text(canonical_json(service.model_dump(mode="json", exclude=set(NOT_RECREATING))))
