"""A new setting is one field of ``config.Settings`` (issue 25, item 3): its option of
``stackctl run`` (flag, help, variable, default, bound), its row of docs/configuration.md's
table and its option of the daemon (``DaemonOptions``) follow from the field, with no other edit.

The first tests hold every setting there is to it; the last adds a field to a copy of the model
and finds it everywhere without touching anything else.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic.dataclasses import dataclass
from typer.main import get_command
from typer.testing import CliRunner

from controller.cli import app
from controller.cli.daemon_options import _made
from controller.cli.settings_options import given_settings, with_settings
from controller.config.settings import Settings, load_settings, setting, settings_table
from controller.daemon.options import DaemonOptions, as_is, made_options, options_class

runner = CliRunner()


def _made_from() -> set[str]:
    return {name for settings in made_options().values() for name in settings}


def test_every_setting_reaches_the_daemon_as_it_is_or_made_into_an_option():
    options = {f.name: f for f in fields(DaemonOptions)}
    for name, info in Settings.__pydantic_fields__.items():
        if name in _made_from():
            continue
        assert name in options, name
        default = MISSING if info.is_required() else info.default
        assert options[name].default == default, name


def test_each_made_option_names_settings_that_exist_and_is_made(tmp_path):
    assert _made_from() <= set(Settings.__pydantic_fields__)
    settings = load_settings(
        {"manifests": tmp_path, "db": tmp_path / "s.db"}, environ={"HOME": str(tmp_path)}
    )
    assert set(_made(settings)) == set(made_options())


def test_every_setting_is_an_option_of_run():
    params = {p.name for p in get_command(app).commands["run"].params}
    assert set(Settings.__pydantic_fields__) <= params


@dataclass(frozen=True)
class Wider(Settings):
    """The model with one more field, and nothing else changed."""

    shiny_things: Annotated[int, setting(ge=2, text="Shiny things polished at once.")] = 3


def _command(seen: dict[str, Any]) -> typer.Typer:
    one = typer.Typer()

    def go(**settings: Any) -> None:
        seen.update(given_settings(settings, Wider))

    one.command()(with_settings(go, Wider))
    return one


def test_a_new_field_needs_no_other_edit(tmp_path: Path):
    seen: dict[str, Any] = {}
    command = _command(seen)
    shown = runner.invoke(command, ["--help"], env={"COLUMNS": "200"})
    assert "--shiny-things" in shown.output and "Shiny things polished at once." in shown.output
    assert "STACKCTL_SHINY_THINGS" in shown.output and "default: (3)" in shown.output
    assert runner.invoke(command, ["--shiny-things", "1"]).exit_code == 2  # ge=2
    assert runner.invoke(command, ["--shiny-things", "5"]).exit_code == 0
    assert seen["shiny_things"] == 5

    row = "| `shiny_things` | `--shiny-things` | `STACKCTL_SHINY_THINGS` | 3 | Shiny things"
    assert row in settings_table(Wider)

    options = options_class(Wider)
    assert {f.name: f.default for f in fields(options)}["shiny_things"] == 3
    settings = Wider(db=tmp_path / "s.db", shiny_things=seen["shiny_things"])
    assert options(**as_is(settings, options), manifests=tmp_path).shiny_things == 5
