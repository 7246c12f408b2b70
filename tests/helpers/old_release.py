"""An earlier release of stackctl installed in a temporary venv, as a user would have it.

``installed_release(commit)``: ``git archive`` of that commit of this repository into a temporary
folder, a venv (``python -m venv``) and ``pip install --no-deps`` of the folder into it; the
commands of ``OldRelease`` then run that release's own ``stackctl`` script. Everything is removed
when the context ends.

The dependencies are not installed again: a ``.pth`` file in the venv names the site-packages of
the interpreter running the tests, as plain paths, so the old release imports today's pydantic,
docker, typer... (offline, and in seconds) while its own ``controller`` package, in the venv's
site-packages, comes first on ``sys.path``. A plain path in a ``.pth`` file does not process that
folder's own ``.pth`` files, so the editable install of the tree under test (a finder installed by
a ``.pth``) is not seen. ``PYTHONPATH`` is removed from the old release's environment for the same
reason. The package is built with pip's build isolation, from the index pip is configured with
(``setuptools>=68`` and ``wheel``, what that commit's pyproject.toml asks for), unless the test
interpreter already has them.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import site
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class OldRelease:
    commit: str
    venv: Path

    @property
    def stackctl_script(self) -> Path:
        return self.venv / "bin" / "stackctl"

    def env(self) -> dict[str, str]:
        """The environment it runs in: ours (DOCKER_HOST...) without PYTHONPATH."""
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env["PYTHONNOUSERSITE"] = "1"
        return env

    def stackctl(
        self, *args: str, cwd: Path, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run this release's ``stackctl ARGS`` in ``cwd``; its output is returned, not checked."""
        return subprocess.run(
            [str(self.stackctl_script), *args],
            cwd=cwd,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def python(self, code: str, *, cwd: Path) -> str:
        """Run ``code`` with this release's interpreter; its stdout (fails on an error)."""
        done = subprocess.run(
            [str(self.venv / "bin" / "python"), "-c", code],
            cwd=cwd,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout


@contextlib.contextmanager
def installed_release(commit: str) -> Iterator[OldRelease]:
    """``commit`` of this repository installed in a temporary venv, removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix=f"stackctl-release-{commit}-"))
    try:
        source = workdir / "source"
        _archive(commit, source)
        venv = workdir / "venv"
        _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=workdir)
        _see_our_dependencies(venv)
        release = OldRelease(commit=commit, venv=venv)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps"]
        if _can_build_without_isolation():
            pip.append("--no-build-isolation")
        _run([*pip, str(source)], cwd=workdir, env=release.env())
        # Its own package, not the tree under test.
        where = release.python("import controller; print(controller.__file__)", cwd=workdir)
        assert where.startswith(str(venv)), f"the old release imports {where}"
        yield release
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _archive(commit: str, dest: Path) -> None:
    """The commit's files (``git archive``), as a release tarball holds them."""
    found = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", commit],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert found.returncode == 0, (
        f"git archive {commit} failed in {REPO} (a shallow clone? fetch its history):"
        f" {found.stderr.decode(errors='replace')}"
    )
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(found.stdout)) as tar:
        tar.extractall(dest, filter="data")


def _see_our_dependencies(venv: Path) -> None:
    """A .pth naming the test interpreter's site-packages (plain paths: their own .pth files,
    such as an editable install's finder, are not processed)."""
    [purelib] = list((venv / "lib").glob("python*/site-packages"))
    paths = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (purelib / "_stackctl_test_dependencies.pth").write_text("".join(f"{p}\n" for p in paths))


def _can_build_without_isolation() -> bool:
    """Whether the test interpreter has what the old pyproject.toml builds with."""
    try:
        major = int(metadata.version("setuptools").split(".")[0])
        metadata.version("wheel")
    except (metadata.PackageNotFoundError, ValueError):
        return False
    return major >= 68


def _run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
