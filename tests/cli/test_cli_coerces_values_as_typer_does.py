"""Option values coerced without pydantic (``controller/cli/coercion.py``) are typer's own: the
same values and the same errors, command line by command line, as a plain ``typer.Typer``."""

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
        name: str = typer.Argument(...),
        maybe: str | None = typer.Option(None, "--maybe"),
        path: Path | None = typer.Option(None, "--path"),
        exists: Path | None = typer.Option(None, "--exists", exists=True),
        resolved: Path | None = typer.Option(None, "--resolved", resolve_path=True),
        file_only: Path | None = typer.Option(None, "--file-only", dir_okay=False),
        color: Color = typer.Option(Color.RED, "--color"),
        any_case: Color = typer.Option(Color.RED, "--any-case", case_sensitive=False),
        flag: bool = typer.Option(False, "--flag/--no-flag"),
        count: int = typer.Option(1, "--count", min=1),
    ) -> None:
        values = (name, maybe, path, exists, resolved, file_only, color, any_case, flag, count)
        typer.echo(repr(values))

    return app


def cases(tmp: Path) -> list[list[str]]:
    (tmp / "file").write_text("x")
    return [
        ["n"],
        ["ünïcode name", "--maybe", "", "--path", "relative/p"],
        ["n", "--path", str(tmp / "file"), "--exists", str(tmp / "file")],
        ["n", "--exists", str(tmp / "missing")],
        ["n", "--resolved", "a/../b", "--file-only", str(tmp)],
        ["n", "--file-only", str(tmp / "file"), "--path", str(tmp)],
        ["n", "--color", "green", "--any-case", "GREEN", "--flag"],
        ["n", "--color", "GREEN"],
        ["n", "--color", "blue"],
        ["n", "--any-case", "Blue", "--no-flag"],
        ["n", "--count", "0"],
        ["n", "--count", "x"],
        ["n", "--path", ""],
        [],
    ]


def test_the_same_values_and_errors_as_typer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    plain, typers = make(PlainTyper), make(typer.Typer)
    for args in cases(tmp_path):
        ours, theirs = runner.invoke(plain, args), runner.invoke(typers, args)
        assert (ours.exit_code, ours.output) == (theirs.exit_code, theirs.output), args


def test_plain_types_are_coerced_here():
    command = typer.main.get_command(make(PlainTyper))
    result = runner.invoke(make(PlainTyper), ["n"])
    assert result.exit_code == 0, result.output
    context = command.make_context("show", ["n", "--path", "p", "--color", "green"])
    coerced = {
        p.name
        for p in command.get_params(context)
        if isinstance(p._runtime_param, PlainRuntimeParam)
    }
    assert coerced == {
        "name",
        "maybe",
        "path",
        "exists",
        "resolved",
        "file_only",
        "color",
        "any_case",
        "flag",
        "help",
    }
