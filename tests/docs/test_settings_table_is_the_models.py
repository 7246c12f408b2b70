"""docs/configuration.md's table of settings is the one the settings model gives (issue 25,
item 3): a setting added, renamed or given another default fails here until the page is
written again by ``scripts/settings_table.py``."""

from __future__ import annotations

import runpy
from pathlib import Path

from controller.config.settings import Settings, settings_table

ROOT = Path(__file__).resolve().parents[2]
script = runpy.run_path(str(ROOT / "scripts" / "settings_table.py"))


def test_the_pages_table_is_the_models():
    page = (ROOT / "docs" / "configuration.md").read_text()
    assert script["with_table"](page, settings_table()) == page, (
        "docs/configuration.md's settings table differs from controller.config.settings.Settings:"
        " run python scripts/settings_table.py"
    )


def test_every_setting_has_a_row_with_its_variable_and_help():
    table = settings_table()
    for name, field in Settings.__pydantic_fields__.items():
        assert f"| `{name}` |" in table and f"`STACKCTL_{name.upper()}`" in table, name
        assert field.description, name


def test_a_changed_model_is_a_difference():
    page = (ROOT / "docs" / "configuration.md").read_text()
    stale = page.replace("| `workers` | `--workers` | `STACKCTL_WORKERS` | 1 |",
                         "| `workers` | `--workers` | `STACKCTL_WORKERS` | 2 |")
    assert stale != page
    assert script["with_table"](stale, settings_table()) == page
