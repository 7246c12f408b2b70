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

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from controller.cli.app import app
from controller.cli.diff_output import disabled_text
from controller.cli.running import ENGINES_OPTION, engine_specs

if TYPE_CHECKING:  # the source layer loads when something is validated: the CLI starts quickly
    from controller.desired import DesiredStack
    from controller.desired.engine_spec import EngineSpec
    from controller.models.errors import ManifestError
    from controller.sources.loader import LoadResult

Checked = dict[str, list[str]]  # stack -> what its target engine cannot carry out


def target_problems(desired: DesiredStack, specs: dict[str, EngineSpec] | None) -> list[str]:
    """What the stack's target engine cannot carry out (the reconciler's checks, pure); a
    target the engines file does not declare is one. ``specs`` None: no engines file given, so
    only a stack on ``local`` is checked."""
    from controller.backends.engines import cannot_run
    from controller.desired.engine_spec import LOCAL, EngineSpec

    if specs is None and desired.engine != LOCAL:
        return []
    spec = (specs or {}).get(desired.engine)
    if specs is not None and spec is None:
        declared = ", ".join(sorted(specs))
        return [f"spec.target.engine: {desired.engine!r} is not declared (declared: {declared})"]
    return cannot_run(desired, spec or EngineSpec(name=LOCAL))


class Output(StrEnum):
    TEXT = "text"
    JSON = "json"


def _shown(base: Path, file: str) -> str:
    """A root-relative file as a path from where the command ran (``manifests/shop.yaml``)."""
    return file if str(base) in ("", ".") else os.path.join(base, file)


def _error_dict(base: Path, error: ManifestError) -> dict[str, object]:
    return {**error.to_dict(), "file": _shown(base, error.file)}


def _entries(base: Path, result: LoadResult, checked: Checked) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = []
    for report in result.sources.values():
        source = _shown(base, report.source) if report.source != "." else str(base)
        tied = {id(e) for errors in report.stack_errors.values() for e in errors}
        for name in report.names:
            stack = result.stacks.get(name)
            entries.append(
                {
                    "stack": name,
                    "source": source,
                    "valid": stack is not None and not checked.get(name),
                    "digest": stack.digest if stack is not None else None,
                    "disabled_services": stack.disabled_services if stack is not None else {},
                    "errors": [_error_dict(base, e) for e in report.stack_errors.get(name, [])],
                    "target_errors": checked.get(name, []),
                }
            )
        for name in report.repositories:
            valid = name in result.repositories
            entries.append({"repository": name, "source": source, "valid": valid, "errors": []})
        loose = [e for e in report.errors if id(e) not in tied]
        if loose or not (report.names or report.repositories):
            entries.append(
                {
                    "stack": None,
                    "source": source,
                    "valid": False,
                    "digest": None,
                    "errors": [_error_dict(base, e) for e in loose],
                }
            )
    return entries


def _print_text(base: Path, result: LoadResult, checked: Checked) -> None:
    for report in result.sources.values():
        for name in report.names:
            stack = result.stacks.get(name)
            source = _shown(base, report.source) if report.source != "." else str(base)
            for problem in checked.get(name, []):
                typer.echo(f"{source}: {problem}")
            if stack is not None and not checked.get(name):
                typer.echo(f"OK {name} {stack.digest[:12]} {source}")
                for service, profiles in sorted(stack.disabled_services.items()):
                    typer.echo(f"  {disabled_text(service, profiles)}")
        for name in report.repositories:
            if name in result.repositories:
                source = _shown(base, report.source)
                typer.echo(f"OK repository {name} {source}")
        for error in report.errors:
            where = _shown(base, error.file)
            where = where if error.line is None else f"{where}:{error.line}"
            typer.echo(
                f"{where}: {error.path}: {error.message}"
                if error.path
                else f"{where}: {error.message}"
            )
    for warning in result.warnings:
        where = _shown(base, warning.file)
        where = where if warning.line is None else f"{where}:{warning.line}"
        prefix = f"{where}: {warning.path}: " if warning.path else f"{where}: "
        typer.echo(f"{prefix}warning: {warning.message}", err=True)


def _missing(path: Path) -> bool:
    try:
        return not path.exists()
    except OSError:  # there, but not even its kind can be read: loading it will say why
        return False


def _load(path: Path) -> tuple[Path, LoadResult]:
    """The base the PATH's files are shown from, and its load. The loader makes each source
    that fails an error of its own; a failure of the walk itself (a folder that cannot be
    listed) is one error of the PATH here, never a traceback."""
    from controller.cli.running import manifest_reach
    from controller.models.errors import ManifestError
    from controller.sources.loader import LoadResult, SourceReport, load_path

    try:
        # Shown paths start at the PATH given: a file's root is its folder.
        base = path if path.is_dir() else path.parent
        return base, load_path(path, reach=manifest_reach())
    except Exception as e:
        error = ManifestError(file=str(path), message=f"cannot be loaded: {type(e).__name__}: {e}")
        report = SourceReport(source=str(path), kind="folder", errors=[error])
        return Path(""), LoadResult(root=path, errors=[error], sources={str(path): report})


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
    targets = paths or [Path("manifests")]
    missing = [p for p in targets if _missing(p)]
    if missing:
        for path in missing:
            typer.echo(f"stackctl validate: {path}: no such file or directory", err=True)
        raise typer.Exit(code=2)
    specs = engine_specs(engines) if engines is not None else None
    results = [_load(path) for path in targets]
    checked: Checked = {}
    for _, result in results:
        for name, desired in result.stacks.items():
            if problems := target_problems(desired, specs):
                checked[name] = problems
            elif specs is None and desired.engine != "local":
                typer.echo(
                    f"{desired.source}: warning: targets engine {desired.engine!r}: give"
                    " --engines FILE to check it against that engine",
                    err=True,
                )
    if output is Output.JSON:
        entries = [e for base, result in results for e in _entries(base, result, checked)]
        typer.echo(json.dumps(entries, indent=2))
    else:
        for base, result in results:
            _print_text(base, result, checked)
    if checked or any(not result.ok for _, result in results):
        raise typer.Exit(code=1)
