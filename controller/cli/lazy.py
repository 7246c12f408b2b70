"""Sub-commands loaded when they run: a group knows its commands' names, modules and one-line
helps up front (a static table), and imports a command's module only when that command is
looked up to run. ``stackctl get stacks`` then loads ``queries`` alone, not the modules of
``apply`` or ``run`` (and, through them, the engine and the source layer).

``--help`` lists every command from the table without importing any: a test compares the table
with the commands' own docstrings, so that the two cannot drift. Nothing here knows a command.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_from_info, get_command_name

from controller.cli.coercion import PlainParams


@dataclass(frozen=True)
class Lazy:
    """Where a command is defined (the module that registers it) and its help's first
    paragraph, as ``--help`` lists it."""

    module: str
    help: str


class LazyCommands(MutableMapping[str, Any]):
    """A group's ``commands``: every name is known, a command is built on first look-up.

    Iterating and ``in`` load nothing; ``[name]`` and ``get(name)`` load that one command."""

    def __init__(
        self,
        *,
        table: Mapping[str, Lazy],
        loaded: MutableMapping[str, Any],
        build: Callable[[str], Any],
    ) -> None:
        self._table, self._loaded, self._build = table, loaded, build

    def is_loaded(self, name: str) -> bool:
        return name in self._loaded

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            if name not in self._table:
                raise KeyError(name)
            self._loaded[name] = self._build(name)
        return self._loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in self._table or name in self._loaded

    def __iter__(self) -> Iterator[str]:
        # The table's order (the help's), then those registered without an entry (``get``).
        yield from self._table
        yield from (name for name in self._loaded if name not in self._table)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __setitem__(self, name: str, command: Any) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]


class LazyGroup(PlainParams, TyperGroup):
    """A typer group whose sub-commands come from ``table``: a subclass gives the table and
    the ``typer.Typer`` its command modules register on. Its own options are coerced without
    pydantic (``coercion.py``)."""

    table: ClassVar[Mapping[str, Lazy]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(table=self.table, loaded=self.commands, build=self._build)
        self._listing = False

    def registry(self) -> typer.Typer:
        """The ``typer.Typer`` on which the table's modules register their commands."""
        raise NotImplementedError

    def _build(self, name: str) -> Any:
        importlib.import_module(self.table[name].module)
        owner = self.registry()
        for info in owner.registered_commands:
            if (info.name or get_command_name(info.callback.__name__)) == name:  # type: ignore[union-attr]
                return get_command_from_info(
                    info,
                    pretty_exceptions_short=owner.pretty_exceptions_short,
                    rich_markup_mode=owner.rich_markup_mode,
                )
        raise LookupError(f"{self.table[name].module} registers no command {name!r}")

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:
        commands: LazyCommands = self.commands  # type: ignore[assignment]
        lazy = self.table.get(cmd_name)
        if self._listing and lazy is not None and not commands.is_loaded(cmd_name):
            return TyperCommand(name=cmd_name, help=lazy.help)  # a line of the help, no more
        return commands.get(cmd_name)

    def format_help(self, ctx: typer.Context, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False
