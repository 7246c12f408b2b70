"""Real compose files from the Compose project's own tests either load or are rejected with
errors that say where and why; no exception escapes the loader.

The corpus is kept in the repository, ``tests/source/compose-corpus`` (150 files from
docker/compose, Apache-2.0; its README gives the source and licence), so a fresh clone runs
it. Files there refer to siblings that are not in the corpus (env files, Dockerfiles,
secrets); a "file not found" error is the expected answer for those.
"""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from controller.sources.loader import load_root

CORPUS = Path(__file__).resolve().parent / "compose-corpus"
FILES = sorted(CORPUS.glob("*.yaml"))


def load_as_project(tmp_path: Path, file: Path):
    (tmp_path / "proj").mkdir()
    shutil.copyfile(file, tmp_path / "proj" / "compose.yaml")
    return load_root(tmp_path)


def test_the_corpus_is_the_compose_projects_files_unchanged() -> None:
    """Every file listed in SOURCES.tsv is here with its recorded SHA-256, and nothing else."""
    with (CORPUS / "SOURCES.tsv").open(newline="") as sources:
        rows = csv.DictReader(sources, delimiter="\t")
        recorded = {row["corpus_path"]: row["sha256"] for row in rows}
    assert len(recorded) == 150
    assert {f.name for f in FILES} == set(recorded)
    for file in FILES:
        assert hashlib.sha256(file.read_bytes()).hexdigest() == recorded[file.name], file.name


@pytest.mark.parametrize("file", FILES, ids=[f.name for f in FILES])
def test_corpus_file_loads_or_explains(tmp_path: Path, file: Path) -> None:
    result = load_as_project(tmp_path, file)
    if result.stacks:
        assert result.errors == []
        assert len(result.stacks["proj"].digest) == 64
        return
    assert result.errors, "an invalid source must say why"
    for error in result.errors:
        assert error.file == "proj/compose.yaml"
        assert error.message and (error.path or error.line is not None or "file" in error.message)
        assert "pydantic" not in error.message and "Traceback" not in error.message


def test_deliberate_mistakes_are_rejected_at_their_key(tmp_path: Path) -> None:
    result = load_as_project(tmp_path, CORPUS / "fixtures__wrong-composefile__compose.yaml")
    assert [(e.path, e.line, e.message) for e in result.errors] == [
        ("services.simple.wrongField", 4, "unknown key")
    ]


def test_corpus_figures(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Prints the figures (``pytest -s``): each rejected file counted once, by its main reason
    (a feature not supported yet, then a referenced file missing, then an unset variable)."""
    loaded = 0
    main: Counter[str] = Counter()
    detail: Counter[str] = Counter()
    for file in FILES:
        result = load_as_project(tmp_path_factory.mktemp("corpus"), file)
        loaded += bool(result.stacks)
        reasons = {reason(e.path, e.message) for e in result.errors}
        detail.update(reasons)
        if reasons:
            main[min(reasons, key=lambda r: (RANK.get(r.split(":")[0], len(RANK)), r))] += 1
    print(f"\ncompose corpus: {loaded}/{len(FILES)} load; rejected files by main reason:")
    for text, count in main.most_common():
        print(f"  {count:3}  {text}")
    print("rejected files by each reason they show:")
    for text, count in detail.most_common():
        print(f"  {count:3}  {text}")
    assert loaded >= 70  # the figure when this test was written; a drop is a regression


INDEX = re.compile(r"\[\d+\]")
RANK = {
    "not supported yet": 0,
    "unknown key": 1,
    "referenced file missing (not in the corpus) or outside the root": 2,
    "variable not set": 3,
}


def reason(path: str, message: str) -> str:
    if message in ("not supported yet", "unknown key"):
        parts = path.split(".")
        key = ".".join(parts[2:] if parts[0] == "services" else parts)
        return f"{message}: {INDEX.sub('', key)}"
    if message.endswith("is not supported yet"):
        return f"not supported yet: {message.split('`')[1]}"
    if "not found" in message or "outside the watched root" in message:
        return "referenced file missing (not in the corpus) or outside the root"
    if "is not set" in message or "missing a value" in message:
        return "variable not set"
    return message
