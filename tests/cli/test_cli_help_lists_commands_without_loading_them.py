"""Sub-commands are loaded when they run (``controller/cli/lazy.py``): ``--help`` lists them from
a table in ``app.py``, which must say what the commands' own docstrings say, in their order; a
command loads its own module and not the others'; ``--version`` does not even load typer."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
from typer.main import get_command

from controller.cli import app
from controller.cli.app import COMMANDS, KINDS, get_app

MODULES = {lazy.module for lazy in [*COMMANDS.values(), *KINDS.values()]}


def registered(typer_app) -> dict[str, str]:
    """Each command's name and its help's first paragraph, as typer builds them (every command
    module imported: typer then builds them all)."""
    for module in MODULES:
        __import__(module)
    group = get_command(typer_app)
    return {
        name: inspect.cleandoc(command.help or "").split("\n\n")[0].strip()
        for name, command in group.commands.items()
        if not hasattr(command, "commands")
    }


@pytest.mark.parametrize(("typer_app", "table"), [(app, COMMANDS), (get_app, KINDS)])
def test_the_table_is_the_commands_in_their_order(typer_app, table):
    assert registered(typer_app) == {name: lazy.help for name, lazy in table.items()}
    assert list(registered(typer_app)) == list(table)


def loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def invoking(*args: str) -> str:
    return (
        "from typer.testing import CliRunner\nfrom controller.cli import app\n"
        f"result = CliRunner().invoke(app, {list(args)!r})\n"
        "assert result.exit_code == 0, result.output\n"
    )


QUERIES = "controller.cli.queries"


@pytest.mark.parametrize(
    ("args", "module"),
    [(["--help"], None), (["get", "--help"], None), (["get", "stacks", "--help"], QUERIES)],
)
def test_help_loads_no_other_command_module(args, module):
    loaded = loaded_after(invoking(*args)) & MODULES
    assert loaded == ({module} if module else set())


def help_output(*args: str, load_all: bool) -> str:
    """``stackctl ARGS --help`` in a fresh process, with every command module imported first
    (the help then lists the commands themselves) or none (the table's lines)."""
    imports = "".join(f"import {module}\n" for module in sorted(MODULES)) if load_all else ""
    code = f"import sys\n{imports}sys.argv = ['stackctl', *{list(args)!r}, '--help']\n"
    code += "from controller.cli import main\nmain()"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("args", [[], ["get"]])
def test_help_is_the_same_as_with_every_command_loaded(args):
    listed = help_output(*args, load_all=False)
    assert listed == help_output(*args, load_all=True)
    assert all(name in listed for name in (KINDS if args else COMMANDS))


def test_version_loads_neither_typer_nor_pydantic():
    loaded = loaded_after(
        "import sys\nsys.argv = ['stackctl', '--version']\nfrom controller.cli import main\nmain()"
    )
    assert loaded & {"typer", "click", "rich", "pydantic"} == set()


def test_app_is_the_typer_app_whatever_was_imported_first():
    code = "import controller.cli.app, controller.cli.queries\nfrom controller.cli import app\n"
    loaded = loaded_after(code + "assert type(app).__name__ == 'PlainTyper', app")
    assert "controller.cli.queries" in loaded
