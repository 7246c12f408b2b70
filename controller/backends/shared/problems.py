"""Where a backend's refusal of a stack is: each problem prefixed by the manifest file it is
in, so that ``stackctl validate``, the reconciler's refusal and the watcher name the file."""

from __future__ import annotations

from controller.desired import DesiredStack


def in_file(desired: DesiredStack, problems: list[str]) -> list[str]:
    """``problems`` about keys of the stack's manifest, each saying which file it is in."""
    return [f"{desired.source}: {p}" for p in problems] if desired.source else problems
