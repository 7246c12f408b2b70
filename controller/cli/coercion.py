"""typer's coercion of option values, without pydantic, for strings, flags, paths and choices.

typer (0.29) turns every option's text into its value through a pydantic ``TypeAdapter`` that it
builds on first use: importing pydantic and building the adapters would be half of what
``stackctl get stacks`` spends as a process (and a third of ``apply``'s, for its ``--timeout``
default). For a number that is one already (a default), a string, a path and an enum choice,
and a list of those (``validate PATH...``), this does what those adapters do, through typer's
own helpers (``coerce_cli_choice``, ``coerce_cli_path``); a value it cannot vouch for (a choice
that is not one, a path that is not a plain string, a number given as text) goes to typer's
adapter, so values and error messages stay typer's. Parameters of other types are left to typer.
``PlainTyper`` makes its commands coerce so; ``lazy.LazyGroup`` its groups.
``tests/cli/test_cli_coerces_values_as_typer_does.py`` (and ``..._lists_...``) compare the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

import typer
from typer._coercion import RuntimeParam, build_runtime_param, resolve_type_descriptor
from typer._param_types import coerce_cli_choice, coerce_cli_path, routes_to_path
from typer.core import TyperCommand, _TyperParameter

_UNVOUCHED = object()  # a value this module leaves to typer's adapter


@dataclass(frozen=True)
class PlainRuntimeParam(RuntimeParam):
    """typer's ``RuntimeParam`` for ``str``, ``bool``, path and ``Enum`` annotations, and lists
    of them (``None`` never gets here: ``RuntimeParam.coerce`` returns it as it is)."""

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        plain = self._plain_value(value, param, ctx)
        if plain is not _UNVOUCHED:
            return plain
        typers = build_runtime_param(resolve_type_descriptor(self.annotation, self.parameter_info))
        return typers._coerce_value(value, param=param, ctx=ctx)

    def _plain_value(self, value: Any, param: Any, ctx: Any) -> Any:
        """The value as typer's adapter makes it, or ``_UNVOUCHED``."""
        annotation, info = self.annotation, self.parameter_info
        if get_origin(annotation) is list:
            return self._plain_list(value, param, ctx)
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            try:
                return coerce_cli_choice(
                    value, choices=list(annotation), case_sensitive=info.case_sensitive, ctx=ctx
                )
            except ValueError:
                return _UNVOUCHED  # typer's adapter says it, in its words
        if annotation is str or annotation is bool:
            return value if type(value) is annotation else _UNVOUCHED
        if type(value) is str and value and "\x00" not in value:
            # What the adapter does with a str: pydantic makes it the path type, then this.
            path_type = info.path_type or annotation
            return coerce_cli_path(
                path_type(value), info, path_type=path_type, param=param, ctx=ctx
            )
        return _UNVOUCHED

    def _plain_list(self, value: Any, param: Any, ctx: Any) -> Any:
        """typer's list adapter: each item as its element's adapter makes it, in order (an
        item left to typer leaves the whole list to it: the items before it raised nothing,
        and typer's adapter takes them the same way before it reaches that one)."""
        items = value if isinstance(value, (list, tuple)) else [value]
        (element_type,) = get_args(self.annotation)
        element = PlainRuntimeParam(parameter_info=self.parameter_info, annotation=element_type)
        coerced = []
        for item in items:
            plain = element._plain_value(item, param, ctx)
            if plain is _UNVOUCHED:
                return _UNVOUCHED
            coerced.append(plain)
        return coerced


@dataclass(frozen=True)
class DefaultNumberParam(RuntimeParam):
    """typer's ``RuntimeParam`` for an ``int`` or ``float`` option: a value that is that number
    already (the default) within ``min`` and ``max`` is the adapter's answer as it is; text from
    the command line goes to typer's adapter (its parsing, its errors). ``apply --timeout`` no
    longer builds the adapter, and with it pydantic, when it is not given."""

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        info = self.parameter_info
        if type(value) is self.annotation and _in_range(value, info):
            return value
        typers = build_runtime_param(resolve_type_descriptor(self.annotation, info))
        return typers._coerce_value(value, param=param, ctx=ctx)


def _in_range(value: float, info: Any) -> bool:
    """Within the option's ``min`` and ``max`` (the adapter's ``ge`` and ``le``)."""
    return (info.min is None or value >= info.min) and (info.max is None or value <= info.max)


def _number(annotation: Any, info: Any) -> bool:
    # A clamped number is the adapter's to bring within bounds.
    return annotation in (int, float) and info.parser is None and not info.clamp


def _plain(annotation: Any, info: Any) -> bool:
    if info.parser is not None:
        return False
    if get_origin(annotation) is list:
        args = get_args(annotation)
        return len(args) == 1 and get_origin(args[0]) is None and _plain(args[0], info)
    if annotation in (str, bool) or (isinstance(annotation, type) and issubclass(annotation, Enum)):
        return True
    return (
        isinstance(annotation, type)
        and issubclass(annotation, Path)
        and (info.path_type is None or issubclass(info.path_type, Path))
        and routes_to_path(annotation, info)
    )


def coerce_plainly(param: Any) -> None:
    """Have typer coerce ``param``'s values here when its type is a plain one."""
    if not isinstance(param, _TyperParameter) or param._runtime_param is not None:
        return
    descriptor = param.type_descriptor
    annotation, info = descriptor.annotation, descriptor.parameter_info
    if descriptor.file_annotation is not None:
        return
    if _plain(annotation, info):
        param._runtime_param = PlainRuntimeParam(parameter_info=info, annotation=annotation)
    elif _number(annotation, info):
        param._runtime_param = DefaultNumberParam(parameter_info=info, annotation=annotation)


class PlainParams:
    """For a typer command or group: its parameters (with those added after it was built: the
    completion options, ``--help``) coerced here (``coerce_plainly``) when it parses, and its
    help as kubectl's reads: a flag shows no ``<bool>`` (it takes no value), and the
    double-backtick markup of the docstrings it comes from is dropped."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""  # typer shows the metavar when one is set, and "" is nothing
            if getattr(param, "help", None):
                param.help = plain_text(param.help)
        return list(params)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.help = plain_text(self.help)  # type: ignore[has-type]
        super().format_help(ctx, formatter)  # type: ignore[misc]

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        for param in self.get_params(ctx):  # type: ignore[attr-defined]
            coerce_plainly(param)
        return super().parse_args(ctx, args)  # type: ignore[misc]


def plain_text(text: str | None) -> str | None:
    """Help without reStructuredText's inline literals: ````--db````  reads ``--db``."""
    return None if text is None else text.replace("``", "")


class PlainCommand(PlainParams, TyperCommand):
    pass


class PlainTyper(typer.Typer):
    """A ``typer.Typer`` whose commands are ``PlainCommand``s unless a command asks otherwise."""

    def command(self, name: str | None = None, *, cls: Any = None, **kwargs: Any) -> Any:
        return super().command(name, cls=cls or PlainCommand, **kwargs)
