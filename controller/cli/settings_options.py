"""``stackctl run``'s options, made from ``controller.config.settings.Settings``: each field
becomes one
``typer.Option`` (its flag, ``STACKCTL_<NAME>``, its help with the default, its lower bound as
click's range), so that a new setting is one field and never a copied parameter.

``with_settings`` gives a command function those options besides its own; the values reach it
in ``**settings``, and ``given_settings`` turns them into ``load_settings``' flags (``None``:
not given; a repeatable flag's values joined by spaces, as its variable holds them).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import typer

from controller.config.settings import ENV_PREFIX, Settings, cli_of, shown_default

_KEYWORD = inspect.Parameter.KEYWORD_ONLY


def _value_type(annotation: Any) -> Any:
    """``int`` of ``int``, ``Path`` of ``Path | None``."""
    args = [a for a in getattr(annotation, "__args__", ()) if a is not type(None)]
    return args[0] if args else annotation


def _lower_bound(field: Any) -> float | None:
    return next((m.ge for m in field.metadata if hasattr(m, "ge")), None)


def _option(name: str, field: Any, model: type) -> inspect.Parameter:
    cli = cli_of(field)
    flag = cli.flag or "--" + name.replace("_", "-")
    kind = _value_type(field.annotation)
    # The default shown is the setting's (the option's own is None: not given).
    shown: Any = shown_default(name, model) or False
    common = {"envvar": ENV_PREFIX + name.upper(), "help": field.description, "show_default": shown}
    if kind is bool:  # --the-name/--no-the-name; a switch named --no-... has no negative
        names = flag if flag.startswith("--no-") else f"{flag}/--no-{flag[2:]}"
        option = typer.Option(None, names, **common)
        annotation: Any = bool | None
    elif cli.many:
        option = typer.Option(None, flag, **common)
        annotation = list[kind] | None  # type: ignore[valid-type]
    else:
        option = typer.Option(None, flag, min=_lower_bound(field), **common)
        annotation = kind | None
    return inspect.Parameter(name, _KEYWORD, default=option, annotation=annotation)


def with_settings(func: Callable[..., Any], model: type = Settings) -> Callable[..., Any]:
    """``func``'s own parameters, then one option per setting of ``model`` not declared by it
    or elsewhere (``Cli.shared``: ``--db``, ``--engines``, ``--timeout`` are other commands'
    options too)."""
    declared = inspect.signature(func, eval_str=True).parameters.values()
    own = [p for p in declared if p.kind != p.VAR_KEYWORD]
    names = {p.name for p in own}
    generated = [
        _option(name, field, model)
        for name, field in model.__pydantic_fields__.items()  # type: ignore[attr-defined]
        if name not in names and not cli_of(field).shared
    ]
    params = [p.replace(kind=_KEYWORD) for p in own] + generated
    func.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    func.__annotations__ = {p.name: p.annotation for p in params}
    return func


def given_settings(values: Mapping[str, Any], model: type = Settings) -> dict[str, Any]:
    """The settings among ``values`` (a command's arguments), as ``load_settings`` takes them."""
    given: dict[str, Any] = {}
    for name, value in values.items():
        if name in model.__pydantic_fields__:  # type: ignore[attr-defined]
            if isinstance(value, list | tuple):
                value = " ".join(value) or None
            given[name] = value
    return given
