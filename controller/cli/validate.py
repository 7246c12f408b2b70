"""``stackctl validate [PATH ...]``: load manifests as the controller would, change nothing.

Prints ``OK name digest-prefix source`` per valid stack (then, indented, each service left
out because none of its profiles is active) and ``file:line: key.path: message`` per error
(file paths as the PATH was given, so they can be opened from where the command ran);
warnings go to stderr. ``-o json`` prints a list of ``{"stack", "source", "valid", "digest",
"disabled_services", "errors"}``, one entry per stack a source produced or tried to, and one
with ``"stack": null`` for a source whose errors belong to no stack.
Each valid stack is also checked against the engine it targets, as the reconciler checks it
before anything runs (``target_problems``): keys a Swarm cannot carry out, Swarm-only keys on a
Docker engine, what a remote engine cannot do; printed ``source: problem`` (``"target_errors"``
in JSON) and the stack counted invalid. The engines come from ``--engines FILE`` (as ``run``
reads it); without it, only stacks on ``local`` are checked, and a stack on another engine gets
a warning saying so. Exit codes: 0 all valid, 1 something invalid (a PATH that cannot be loaded
at all too: one error line, never a traceback), 2 usage error (e.g. a PATH that does not
exist, a bad engines file). It never touches the database or an engine: validating is loading
and checking, nothing else.
"""

from __future__ import annotations

from pathlib import Path

import typer

from controller.cli.app import app
from controller.cli.running import ENGINES_OPTION, engine_specs
from controller.cli.validating import Checked, Output, target_problems, validate_paths

__all__ = ["Checked", "Output", "target_problems", "validate"]


@app.command()
def validate(
    paths: list[Path] | None = typer.Argument(
        None, help="Manifest files or directories (default: ./manifests)."
    ),
    output: Output = typer.Option(Output.TEXT, "--output", "-o", help="text or json."),
    engines: Path | None = ENGINES_OPTION,
) -> None:
    """Validate manifests: one line per stack (OK name digest source), per repository
    (OK repository name source) or per error.

    Each stack is also checked against the engine it targets (--engines FILE; without it,
    only stacks on local)."""
    validate_paths(paths, output, lambda: engine_specs(engines) if engines is not None else None)
