"""Running Debian's docker-compose (1.29.2) on a project folder, for the interoperability tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

SLEEPER = {"command": ["sleep", "3600"], "init": True, "pull_policy": "never"}


def compose(folder: Path, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``docker-compose -p NAME -f FOLDER/compose.yaml ARGS...``, its output captured."""
    return subprocess.run(
        ["docker-compose", "-p", name, "-f", str(folder / "compose.yaml"), *args],
        capture_output=True, text=True, timeout=120, check=False,
    )
