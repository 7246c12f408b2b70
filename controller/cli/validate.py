"""``stackctl validate [PATH ...]``: load manifests as the controller would, change nothing.

Prints ``OK name digest-prefix source`` per valid stack (then, indented, each service left
out because none of its profiles is active) and ``file:line: key.path: message`` per error
(file paths as the PATH was given, so they can be opened from where the command ran);
warnings go to stderr. ``-o json`` prints a list of ``{"stack", "source", "valid", "digest",
"disabled_services", "errors"}``, one entry per stack a source produced or tried to, and one
with ``"stack": null`` for a source whose errors belong to no stack.
Exit codes: 0 all valid, 1 something invalid (a PATH that cannot be loaded at all too: one
error line, never a traceback), 2 usage error (e.g. a PATH that does not exist). It never
touches the database or the engine: validating is loading, and nothing else.
"""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from controller.cli.app import app
from controller.cli.differences import disabled_text

if TYPE_CHECKING:  # the source layer loads when something is validated: the CLI starts quickly
    from controller.errors import ManifestError
    from controller.source import LoadResult


class Output(StrEnum):
    TEXT = "text"
    JSON = "json"


def _shown(base: Path, file: str) -> str:
    """A root-relative file as a path from where the command ran (``manifests/shop.yaml``)."""
    return file if str(base) in ("", ".") else os.path.join(base, file)


def _error_dict(base: Path, error: ManifestError) -> dict[str, object]:
    return {**error.to_dict(), "file": _shown(base, error.file)}


def _entries(base: Path, result: LoadResult) -> list[dict[str, object]]:
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
                    "valid": stack is not None,
                    "digest": stack.digest if stack is not None else None,
                    "disabled_services": stack.disabled_services if stack is not None else {},
                    "errors": [_error_dict(base, e) for e in report.stack_errors.get(name, [])],
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


def _print_text(base: Path, result: LoadResult) -> None:
    for report in result.sources.values():
        for name in report.names:
            stack = result.stacks.get(name)
            if stack is not None:
                source = _shown(base, report.source) if report.source != "." else str(base)
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
    from controller.errors import ManifestError
    from controller.source import LoadResult, SourceReport, load_path

    try:
        # Shown paths start at the PATH given: a file's root is its folder.
        base = path if path.is_dir() else path.parent
        return base, load_path(path)
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
) -> None:
    """Validate manifests: one line per stack (OK name digest source), per repository
    (OK repository name source) or per error."""
    targets = paths or [Path("manifests")]
    missing = [p for p in targets if _missing(p)]
    if missing:
        for path in missing:
            typer.echo(f"stackctl validate: {path}: no such file or directory", err=True)
        raise typer.Exit(code=2)
    results = [_load(path) for path in targets]
    if output is Output.JSON:
        entries = [entry for base, result in results for entry in _entries(base, result)]
        typer.echo(json.dumps(entries, indent=2))
    else:
        for base, result in results:
            _print_text(base, result)
    if any(not result.ok for _, result in results):
        raise typer.Exit(code=1)
