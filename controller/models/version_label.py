"""A stack version's label, ``v1``, ``v2``, ...: its number (no pydantic here: the CLI's quick
``describe`` compares labels before any model is loaded)."""

from __future__ import annotations

import re

VERSION_LABEL = re.compile(r"^v([1-9][0-9]*)$")


def version_number(label: str) -> int:
    """``"v12"`` -> 12; anything else is a ``ValueError``."""
    match = VERSION_LABEL.match(label)
    if not match:
        raise ValueError(f"version label {label!r} is not of the form v1, v2, ...")
    return int(match.group(1))
