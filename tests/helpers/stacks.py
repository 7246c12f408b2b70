"""Helpers to build desired stacks from compose text in the convergence tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from controller.desired import DesiredStack
from controller.source import load_path


def desired_stack(tmp: Path, name: str, compose: dict[str, Any], **spec: Any) -> DesiredStack:
    """A Stack manifest named ``name`` with an inline compose document, loaded like any other."""
    manifest = {
        "apiVersion": "stackctl/v1",
        "kind": "Stack",
        "metadata": {"name": name},
        "spec": {"compose": compose, **spec},
    }
    folder = tmp / f"manifests-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(manifest))
    result = load_path(folder)
    assert not result.errors, [e.render() for e in result.errors]
    return result.stacks[name]
