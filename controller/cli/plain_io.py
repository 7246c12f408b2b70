"""How a command prints and ends, with or without typer loaded.

``echo`` is ``typer.echo`` when typer runs the command; before typer is imported (the quick
paths, ``quick_files.py``) it writes a text line the way ``typer.echo`` does on a UTF-8 stream:
the line and a newline, ANSI codes removed when the stream is not a terminal, flushed.
``CommandExit`` ends a command with an exit status: the typer app turns it into ``typer.Exit``
(``app.py``), a quick path into the process's status. A command's body written with these two
runs the same under typer and without it.
"""

from __future__ import annotations

import re
import sys

_ANSI = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")  # click's strip_ansi


class CommandExit(Exception):
    """End the command with ``code`` (its message, if any, already printed)."""

    def __init__(self, code: int = 0) -> None:
        super().__init__(code)
        self.code = code


def echo(message: str = "", *, err: bool = False) -> None:
    """Print ``message`` and a newline on stdout (``err``: stderr), as ``typer.echo``."""
    typer = sys.modules.get("typer")
    if typer is not None:
        typer.echo(message, err=err)
        return
    stream = sys.stderr if err else sys.stdout
    if stream is None:
        return
    out = f"{message}\n"
    if "\033" in out and not _isatty(stream):
        out = _ANSI.sub("", out)
    stream.write(out)
    stream.flush()


def fail(message: str, code: int = 1) -> CommandExit:
    """Print ``error: message`` on stderr and return the exit to raise."""
    echo(f"error: {message}", err=True)
    return CommandExit(code)


def pacify_closed_pipe() -> None:
    """The reader went away (``| head``): no more writes complain, as click's ``main`` does
    (its ``PacifyFlushWrapper``); the caller then exits 1, as click does."""
    from typer._click.utils import PacifyFlushWrapper

    sys.stdout = PacifyFlushWrapper(sys.stdout)  # type: ignore[assignment]
    sys.stderr = PacifyFlushWrapper(sys.stderr)  # type: ignore[assignment]


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except Exception:
        return False
