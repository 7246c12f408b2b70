"""The body of ``stackctl validate`` (``validate.py`` declares the command), free of typer: it
prints with ``plain_io.echo`` and ends with ``CommandExit``, so that the quick path
(``quick_files.py``) runs it before typer is imported and prints what the typer command prints.
What it prints and its exit codes: ``validate.py``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from controller.cli.diff_output import disabled_text
from controller.cli.plain_io import CommandExit, echo

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
                echo(f"{source}: {problem}")
            if stack is not None and not checked.get(name):
                echo(f"OK {name} {stack.digest[:12]} {source}")
                for service, profiles in sorted(stack.disabled_services.items()):
                    echo(f"  {disabled_text(service, profiles)}")
        for name in report.repositories:
            if name in result.repositories:
                source = _shown(base, report.source)
                echo(f"OK repository {name} {source}")
        for error in report.errors:
            where = _shown(base, error.file)
            where = where if error.line is None else f"{where}:{error.line}"
            echo(
                f"{where}: {error.path}: {error.message}"
                if error.path
                else f"{where}: {error.message}"
            )
    for warning in result.warnings:
        where = _shown(base, warning.file)
        where = where if warning.line is None else f"{where}:{warning.line}"
        prefix = f"{where}: {warning.path}: " if warning.path else f"{where}: "
        echo(f"{prefix}warning: {warning.message}", err=True)


def _missing(path: Path) -> bool:
    try:
        return not path.exists()
    except OSError:  # there, but not even its kind can be read: loading it will say why
        return False


def _load(path: Path) -> tuple[Path, LoadResult]:
    """The base the PATH's files are shown from, and its load. The loader makes each source
    that fails an error of its own; a failure of the walk itself (a folder that cannot be
    listed) is one error of the PATH here, never a traceback."""
    from controller.cli.in_process import manifest_reach
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


def validate_paths(
    paths: Sequence[Path] | None,
    output: Output,
    specs: Callable[[], dict[str, EngineSpec] | None],
) -> None:
    """``stackctl validate``: ``specs`` reads the engines file (None: none given) once every
    PATH is known to exist."""
    targets = paths or [Path("manifests")]
    missing = [p for p in targets if _missing(p)]
    if missing:
        for path in missing:
            echo(f"stackctl validate: {path}: no such file or directory", err=True)
        raise CommandExit(code=2)
    declared = specs()
    results = [_load(path) for path in targets]
    checked: Checked = {}
    for _, result in results:
        for name, desired in result.stacks.items():
            if problems := target_problems(desired, declared):
                checked[name] = problems
            elif declared is None and desired.engine != "local":
                echo(
                    f"{desired.source}: warning: targets engine {desired.engine!r}: give"
                    " --engines FILE to check it against that engine",
                    err=True,
                )
    if output is Output.JSON:
        entries = [e for base, result in results for e in _entries(base, result, checked)]
        echo(json.dumps(entries, indent=2))
    else:
        for base, result in results:
            _print_text(base, result, checked)
    if checked or any(not result.ok for _, result in results):
        raise CommandExit(code=1)
