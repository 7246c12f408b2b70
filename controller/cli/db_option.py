"""How ``--db`` given before the command reaches it: ``stackctl --db X get stacks`` means
``stackctl get stacks --db X``.

A command's own ``--db`` wins over the root's, and either wins over ``STACKCTL_DB`` (which
click reads for the command's option, so a ``default_map`` would rank below it; ``-o``, which
has no variable, reaches the commands that way: ``cli/app.py``). Nothing here reads the
database, the engine or the environment.
"""

from __future__ import annotations

from typing import Any

import typer

# By name: typer carries its own copy of click, whose ParameterSource is not click's.
TYPED = {"COMMANDLINE", "PROMPT"}


def _typed(ctx: typer.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name in TYPED


def from_root(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> Any:
    """The option's value on this command when typed here, else the root's when typed there,
    else the environment's or the default."""
    name = param.name
    root = ctx.find_root()
    if name is None or root is ctx or _typed(ctx, name):
        return value
    if name in root.params and _typed(root, name):
        return root.params[name]
    return value
