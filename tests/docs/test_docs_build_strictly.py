"""The docs site (``mkdocs.yml``, ``docs/``) builds with ``mkdocs build --strict``: no broken link,
anchor or image, no page left out of the nav. Links between pages stay true as pages move.

The build runs the venv's own ``mkdocs`` (beside ``sys.executable``) into ``tmp_path``, so the
repository is left as it was. The second test keeps the first honest: the same site with one
broken link must fail to build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MKDOCS = Path(sys.executable).with_name("mkdocs")


def build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    if not MKDOCS.exists():
        pytest.fail(f"{MKDOCS} not found: install the dev extra (pip install -e '.[dev]')")
    return subprocess.run(
        [str(MKDOCS), "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
        capture_output=True,
        text=True,
        timeout=300,
        # Material's end-of-life banner is not a warning of ours.
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )


def warnings_of(result: subprocess.CompletedProcess[str]) -> list[str]:
    lines = (result.stdout + result.stderr).splitlines()
    return [line for line in lines if "WARNING" in line or "ERROR" in line]


def test_the_docs_build_strictly_with_no_warning(tmp_path: Path) -> None:
    result = build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0 and not warnings_of(result), result.stdout + result.stderr
    assert (tmp_path / "site" / "architecture.html").exists()


def test_a_broken_link_fails_the_build(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    copy.mkdir()
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", copy / "docs")
    page = copy / "docs" / "getting-started.md"
    page.write_text(page.read_text() + "\nSee [the manifests](manifest.md).\n")
    result = build(copy / "mkdocs.yml", tmp_path / "site")
    assert result.returncode != 0
    assert any("manifest.md" in line for line in warnings_of(result)), result.stderr
