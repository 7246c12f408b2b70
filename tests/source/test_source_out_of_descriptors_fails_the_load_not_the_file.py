"""A file that cannot be opened because the process has no file descriptor left (EMFILE) is no
problem of the file: the load fails with ``TransientError`` (the watcher's pass fails and is
retried), instead of reporting the manifest invalid, which would drop the change until another
write (issue 24, item 2). The limit is lowered for real, in a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import resource, sys
from pathlib import Path
from controller.models.errors import TransientError
from controller.sources.loader import load_path
resource.setrlimit(resource.RLIMIT_NOFILE, (3, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
try:
    result = load_path(Path(sys.argv[1]))
except TransientError as e:
    print("transient:", e)
else:
    print("loaded:", [e.render() for r in result.sources.values() for e in r.errors])
"""


def test_emfile_while_reading_a_manifest_is_a_transient_failure(tmp_path: Path) -> None:
    source = tmp_path / "web.yaml"
    source.write_text("services:\n  app:\n    image: busybox\n")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(source)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("transient:"), done.stdout
    assert str(source) in done.stdout and "Too many open files" in done.stdout
