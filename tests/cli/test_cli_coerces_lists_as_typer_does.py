"""A list argument or option of plain items (``stackctl validate PATH...``) coerced without
pydantic (``controller/cli/coercion.py``) is typer's own: the same values and the same errors,
command line by command line, as a plain ``typer.Typer``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from controller.cli.coercion import PlainRuntimeParam, PlainTyper

runner = CliRunner()


class Color(StrEnum):
    RED = "red"
    GREEN = "green"


def make(typer_class: type[typer.Typer]) -> typer.Typer:
    app = typer_class(add_completion=False)

    @app.command()
    def show(
        paths: list[Path] | None = typer.Argument(None),
        colors: list[Color] | None = typer.Option(None, "--color"),
        names: list[str] | None = typer.Option(None, "--name"),
        files: list[Path] | None = typer.Option(None, "--file", exists=True, dir_okay=False),
    ) -> None:
        typer.echo(repr((paths, colors, names, files)))

    return app


def cases(tmp: Path) -> list[list[str]]:
    (tmp / "file").write_text("x")
    return [
        [],
        ["a", "b/c", str(tmp)],
        ["a", ""],
        ["", "a"],
        ["--color", "green", "--color", "red"],
        ["--color", "GREEN", "--color", "red"],
        ["--color", "red", "--color", "blue"],
        ["--name", "x", "--name", ""],
        ["--file", str(tmp / "file"), "--file", str(tmp / "missing")],
        ["--file", str(tmp)],
        ["--file", "", "--file", str(tmp / "missing")],
        ["p", "--file", str(tmp / "file"), "--name", "ünï"],
    ]


def test_the_same_lists_and_errors_as_typer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    plain, typers = make(PlainTyper), make(typer.Typer)
    for args in cases(tmp_path):
        ours, theirs = runner.invoke(plain, args), runner.invoke(typers, args)
        assert (ours.exit_code, ours.output) == (theirs.exit_code, theirs.output), args


def test_lists_of_plain_items_are_coerced_here():
    command = typer.main.get_command(make(PlainTyper))
    context = command.make_context("show", ["p"])
    coerced = {
        p.name
        for p in command.get_params(context)
        if isinstance(p._runtime_param, PlainRuntimeParam)
    }
    assert coerced == {"paths", "colors", "names", "files", "help"}
