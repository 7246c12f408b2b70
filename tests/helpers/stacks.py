"""Helpers to build desired stacks from compose text in the convergence tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from controller.desired import DesiredStack
from controller.desired.reach import Reach
from controller.sources.loader import load_path

# The operator of these tests allows every destination (their receivers are on 127.0.0.1).
TRUSTING = Reach(notify_allow=("*",), secrets_dir=Path("/"))


def desired_stack(tmp: Path, name: str, compose: dict[str, Any], **spec: Any) -> DesiredStack:
    """A Stack manifest named ``name`` with an inline compose document, loaded like any other
    (under an operator who allows every destination)."""
    manifest = {
        "apiVersion": "stackctl/v1",
        "kind": "Stack",
        "metadata": {"name": name},
        "spec": {"compose": compose, **spec},
    }
    folder = tmp / f"manifests-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(manifest))
    result = load_path(folder, reach=TRUSTING)
    assert not result.errors, [e.render() for e in result.errors]
    return result.stacks[name]
