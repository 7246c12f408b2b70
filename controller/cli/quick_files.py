"""``stackctl validate PATH...``, ``diff PATH`` and ``apply PATH`` answered before typer is
imported: the commands that load manifests, in their common shapes.

Loading typer (and the app's command table) is a sixth of what these commands cost as a
process. ``answer_files`` reads the command line itself: the root's ``--db X`` and ``-o X``,
the command word, its arguments, and its own ``--db X`` (``apply``, ``diff``) or ``-o
text|json`` (``validate``), each given once. It then runs the command's body, the one the typer
command runs (``converging.py``, ``validating.py``: no typer there), and returns its exit
status. The root's ``-o`` reaches ``validate`` only (the others have no ``-o``), as typer's
default map does.

For anything else it returns ``None`` before doing anything and typer runs the command, so its
usage errors, help and messages stay typer's: another option (``--wait``, ``--adopt``,
``--engines``...), a glued (``--db=X``) or repeated one, an argument that looks like an option,
a ``-o`` that is not ``text`` or ``json``, shell completion, a ``STACKCTL_*`` setting other
than the database and the engines file, an engines file that typer would refuse, an output
stream that is not UTF-8. A command's ``error:`` lines and exit codes are the body's own; a
project error that escapes it is the app's ``error:`` line and exit 1; a crash is shown by
typer's exception hook. ``tests/cli/test_cli_file_commands_answer_before_typer.py`` runs both
ways over a table of command lines and compares what they print.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from controller.cli.plain_io import CommandExit, echo, pacify_closed_pipe
from controller.models.errors import StackctlError

if TYPE_CHECKING:
    from controller.desired.engine_spec import EngineSpec

WORDS = frozenset({"apply", "diff", "validate"})
# The valued options each command takes (spelling -> name); the root's are --db and -o.
_ROOT = {"--db": "db", "-o": "output", "--output": "output"}
_OWN = {
    "apply": {"--db": "db"},
    "diff": {"--db": "db"},
    "validate": {"-o": "output", "--output": "output"},
}
_OUTPUTS = ("text", "json")  # validate's -o choices, as typer spells them


def answer_files(args: Sequence[str]) -> int | None:
    """The exit status of the command ``args`` when answered here, else ``None`` (typer's)."""
    parsed = _read(args)
    if parsed is None or not _plain_process():
        return None
    word, arguments, options = parsed
    specs = _engines()
    if specs is False:
        return None
    body = _body(word, arguments, options, specs)
    if body is None:
        return None
    return _run(body)


def _read(args: Sequence[str]) -> tuple[str, list[str], dict[str, str]] | None:
    """The command word, its arguments and its options (its own over the root's)."""
    rest = list(args)
    root: dict[str, str] = {}
    while rest and rest[0].startswith("-"):
        if not _take(rest, root, _ROOT):
            return None
    if not rest or rest[0] not in WORDS:
        return None
    word = rest.pop(0)
    own: dict[str, str] = {}
    arguments: list[str] = []
    while rest:
        if rest[0].startswith("-"):
            if not _take(rest, own, _OWN[word]):
                return None
        else:
            arguments.append(rest.pop(0))
    if word != "validate":
        root.pop("output", None)  # typer's default map: only a command with -o takes it
    return word, arguments, {**root, **own}


def _take(rest: list[str], found: dict[str, str], spellings: dict[str, str]) -> bool:
    """Move ``--db X`` (or another of ``spellings``) from ``rest`` into ``found``; False for
    anything else: another option, one given twice, a value missing, empty or like an option."""
    key = spellings.get(rest[0])
    if key is None or key in found or len(rest) < 2:
        return False
    value = rest[1]
    if not value or value.startswith("-"):
        return False
    found[key] = value
    del rest[:2]
    return True


def _plain_process() -> bool:
    """No shell completion asked, no setting but the paths (``plain_environment``), and UTF-8
    output streams (where ``typer.echo`` writes the text unchanged)."""
    from controller.cli.in_process import plain_environment

    if any(key.startswith("_") and key.endswith("_COMPLETE") for key in os.environ):
        return False
    streams = (sys.stdout, sys.stderr)
    utf8 = all(
        s is not None and (getattr(s, "encoding", "") or "").lower().replace("-", "") == "utf8"
        for s in streams
    )
    return utf8 and plain_environment()


def _engines() -> dict[str, EngineSpec] | bool | None:
    """The engines file of ``STACKCTL_ENGINES`` (None: not set), or False when typer would
    refuse it (its usage error is typer's to print)."""
    raw = os.environ.get("STACKCTL_ENGINES")
    if not raw:
        return None
    from controller.cli.in_process import read_engines

    try:
        return read_engines(Path(raw))
    except Exception:  # a ManifestError: typer's BadParameter, printed its way
        return False


def _body(
    word: str,
    arguments: list[str],
    options: dict[str, str],
    specs: dict[str, EngineSpec] | None,
) -> Callable[[], None] | None:
    """The command's body with its values, as typer would call it; None: not a shape here."""
    db = Path(options["db"]) if "db" in options else None
    if word == "validate":
        from controller.cli.validating import Output, validate_paths

        output = options.get("output", "text")
        if output not in _OUTPUTS:
            return None
        paths = [Path(a) for a in arguments] or None
        return lambda: validate_paths(paths, Output(output), lambda: specs)
    if len(arguments) != 1:
        return None
    from controller.cli.in_process import read_engines

    declared = specs if specs is not None else read_engines(None)
    if word == "diff":
        from controller.cli.converging import diff_target

        return lambda: diff_target(arguments[0], db=db, adopt=False, specs=lambda: declared)
    from controller.cli.converging import apply_path
    from controller.config.shared import TIMEOUT_SECONDS

    return lambda: apply_path(
        Path(arguments[0]),
        db=db,
        wait=True,
        timeout=TIMEOUT_SECONDS,
        adopt=False,
        specs=lambda: declared,
    )


def _run(body: Callable[[], None]) -> int:
    """Run ``body`` and end as the typer app ends a command (``app.py``, typer's ``_main``)."""
    try:
        body()
    except CommandExit as e:
        return e.code
    except StackctlError as e:
        echo(f"error: {e}", err=True)
        return 1
    except KeyboardInterrupt:
        return 130
    except EOFError:
        echo("", err=True)
        echo("Aborted!", err=True)
        return 1
    except OSError as e:
        if e.errno != errno.EPIPE:
            _crash(e)
        pacify_closed_pipe()
        return 1
    except Exception as e:
        _crash(e)
    return 0


def _crash(error: Exception) -> None:
    """Raise ``error`` to be shown by typer's exception hook, as the typer app would."""
    import typer.main

    from controller.cli.app import app

    sys.excepthook = typer.main.except_hook
    config = typer.main.DeveloperExceptionConfig(
        pretty_exceptions_enable=app.pretty_exceptions_enable,
        pretty_exceptions_show_locals=app.pretty_exceptions_show_locals,
        pretty_exceptions_short=app.pretty_exceptions_short,
    )
    setattr(error, typer.main._typer_developer_exception_attr_name, config)
    raise error
