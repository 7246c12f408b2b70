"""``stackctl get stacks`` as a table, wide or names reads plain rows
(``controller.db.plain_reads``)
with no models and no pydantic, and prints exactly what the models' path prints; a file the
views cannot vouch for (here: the views step aside) is opened by ``Database`` as before."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from controller.cli import app
from controller.db import plain_reads as views
from controller.models import HealthStatus, SyncStatus

runner = CliRunner()

SHAPES = [
    ["get", "stacks"],
    ["get", "stacks", "-o", "wide"],
    ["get", "stacks", "-o", "name"],
    ["get", "stacks", "--all"],
    ["get", "stacks", "-A", "-o", "wide"],
    ["get", "stacks", "blog"],
    ["get", "stacks", "shop", "-o", "name"],
    ["get", "stacks", "ghost"],
    ["-o", "wide", "get", "stacks"],
]


@pytest.fixture
def stacks(db, seeded, db_path):
    """Two stacks: ``shop`` with an error that needs the wide column, ``blog`` deleted."""
    db.stacks.update("shop", last_error="it broke: [red]not markup[/red]")
    db.stacks.update(
        "blog",
        current_version=None,
        applied_version=None,
        sync_status=SyncStatus.SYNCED,
        health_status=HealthStatus.MISSING,
    )
    return db_path


def invoke(args: list[str], db_path):
    result = runner.invoke(app, [*args, "--db", str(db_path)])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("args", SHAPES, ids=" ".join)
def test_the_same_output_as_through_the_models(args, stacks, monkeypatch):
    real, answers = views.list_stacks, []

    def spy(*args, **kwargs):
        answers.append(real(*args, **kwargs))
        return answers[-1]

    monkeypatch.setattr(views, "list_stacks", spy)
    quick = invoke(args, stacks)
    assert answers and answers[0] is not None, "the views did not answer"
    monkeypatch.setattr(views, "list_stacks", lambda *args, **kwargs: None)  # they step aside
    assert quick == invoke(args, stacks)


def test_get_stacks_loads_no_model_and_no_pydantic(stacks):
    code = (
        "import sys\n"
        f"sys.argv = ['stackctl', 'get', 'stacks', '-o', 'wide', '--db', {str(stacks)!r}]\n"
        "from controller.cli import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print('\\n'.join(sorted(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "shop" in result.stdout
    loaded = set(result.stdout.split())
    assert "controller.db.plain_reads" in loaded
    assert loaded & {"pydantic", "controller.models.stack", "controller.db.database"} == set()
