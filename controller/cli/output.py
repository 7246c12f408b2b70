"""How the CLI shows things: rich tables for people, JSON or YAML for scripts.

Tables are plain (no box, no colour codes when not on a terminal) so that ``grep`` and ``awk``
work on them, and cells are never interpreted as rich markup (``[stack]`` stays as typed).
Structured output is the models' JSON form (``model_dump(mode="json")``), the same as the API's.
Nothing here reads the database or the engine.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # loaded when something is printed: the CLI starts quickly
    from rich.console import Console


class Output(StrEnum):
    TABLE = "table"
    JSON = "json"
    YAML = "yaml"


def __getattr__(name: str) -> Any:
    # OUTPUT_OPTION is made on first use (PEP 562): importing this module loads no typer, so
    # that `get stacks` can print before typer is loaded (quick.py).
    if name != "OUTPUT_OPTION":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import typer

    option = typer.Option(
        Output.TABLE,
        "--output",
        "-o",
        help="table for people; json or yaml for scripts (also before the command).",
    )
    globals()[name] = option
    return option


def console() -> Console:
    """A console on the current stdout (the CLI runner swaps it); wide when not a terminal, so
    that piped tables are never folded."""
    from rich.console import Console

    tty = sys.stdout.isatty()
    width = shutil.get_terminal_size().columns if tty else 10_000
    return Console(file=sys.stdout, width=width, highlight=False, soft_wrap=True)


def print_table(
    columns: Sequence[str], rows: Iterable[Sequence[object]], *, indent: int = 0
) -> None:
    header = list(columns)
    cells = [[cell_text(value) for value in row] for row in rows]
    if plain_terminal() and plain_cells(header, cells):
        sys.stdout.write(plain_table(header, cells, indent=indent))
        sys.stdout.flush()
        return
    rich_table(header, cells, indent=indent)


def rich_table(columns: Sequence[str], rows: Sequence[Sequence[str]], *, indent: int = 0) -> None:
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, show_edge=False, pad_edge=False, padding=(0, 3, 0, 0))
    for column in columns:
        table.add_column(Text(column, style="bold"), no_wrap=True, overflow="ignore")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    out = console()
    if table.row_count == 0:
        out.print(Text(" " * indent + "(none)"))
    else:
        out.print(Padding(table, (0, 0, 0, indent), expand=False))


# Loading rich and laying a table out with it is most of what a one-shot `stackctl get` would
# spend; where rich would print plain text (no terminal: no bold header, no width to fit) the
# same characters are laid out here (tests/cli/test_cli_tables_are_the_same_without_rich.py).
PLAIN_WIDTH = 10_000  # console()'s width when not on a terminal


def plain_terminal() -> bool:
    """Whether rich would write no escape codes to stdout (rich's ``Console.is_terminal``)."""
    if "IPython" in sys.modules:
        return False
    tty_compatible = os.environ.get("TTY_COMPATIBLE", "")
    if tty_compatible in ("0", "1"):
        return tty_compatible == "0"
    force_color = os.environ.get("FORCE_COLOR")
    if force_color is not None:
        return force_color == ""
    return not sys.stdout.isatty()


def plain_text(text: str) -> bool:
    """Printable ASCII (no tab, no newline, no escape): one column per character, and nothing
    that rich or click would change on its way out."""
    return text.isascii() and text.isprintable()


def plain_cells(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> bool:
    """``plain_text`` cells, as many as the columns, in a table narrower than the console."""
    if not columns or any(len(row) != len(columns) for row in rows):
        return False
    # One check over all the text: it is printable ASCII exactly when every cell is (a
    # cell-by-cell call cost a third of `get stacks` at 10,000 stacks).
    if not plain_text("".join([*columns, *(c for row in rows for c in row)])):
        return False
    widths = [max(len(cell) for cell in column) for column in zip(columns, *rows, strict=True)]
    return sum(widths) + 3 * len(widths) < PLAIN_WIDTH // 2  # far from it: indent included


def plain_table(columns: Sequence[str], rows: Sequence[Sequence[str]], *, indent: int = 0) -> str:
    """The text rich prints for ``print_table`` off a terminal: each column as wide as its
    widest cell, three spaces between columns, the last one padded too."""
    margin = " " * indent
    if not rows:
        return f"{margin}(none)\n"
    widths = [max(len(cell) for cell in column) for column in zip(columns, *rows, strict=True)]
    # One format for every line: each cell left-aligned in its column's width (plus the three
    # spaces), the last one in its own width.
    line = margin + "".join(f"{{:<{w + 3}}}" for w in widths[:-1]) + f"{{:<{widths[-1]}}}"
    return "\n".join([line.format(*cells) for cells in (columns, *rows)]) + "\n"


# click's pattern of an ANSI escape sequence (``click._compat._ansi_re``).
_ANSI = r"\033\[[0-?]*[ -/]*[@-~]"


def echo(text: str) -> None:
    """``typer.echo(text)`` without loading typer (the quick reads, ``quick.py``): the line,
    its ANSI escape sequences dropped when stdout is not a terminal, as click drops them."""
    if "\x1b" in text and not _isatty():
        import re

        text = re.sub(_ANSI, "", text)
    sys.stdout.write(text + "\n")


def echo_compatible() -> bool:
    """Whether ``echo`` writes what click would: click writes through a stream of its own
    when stdout's encoding is ASCII (``click._compat._stream_is_misconfigured``)."""
    import codecs

    try:
        return codecs.lookup(sys.stdout.encoding or "ascii").name != "ascii"
    except (LookupError, AttributeError):
        return False


def _isatty() -> bool:
    try:
        return sys.stdout.isatty()
    except Exception:
        return False


def print_data(data: Any, output: Output) -> None:
    """``data`` as JSON (indented) or YAML, for ``-o json|yaml``."""
    import typer
    import yaml

    plain = to_plain(data)
    if output is Output.YAML:
        typer.echo(yaml.safe_dump(plain, sort_keys=False, allow_unicode=True), nl=False)
    else:
        typer.echo(json.dumps(plain, indent=2, ensure_ascii=False))


def to_plain(data: Any) -> Any:
    """Models and containers of models as JSON-able values."""
    from pydantic import BaseModel

    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return to_plain(dataclasses.asdict(data))
    if isinstance(data, dict):
        return {key: to_plain(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [to_plain(value) for value in data]
    if isinstance(data, datetime):
        return timestamp(data)
    if isinstance(data, Enum):  # a dataclass's StrEnum field: YAML's safe dumper wants a str
        return data.value
    return data


def cell_text(value: object) -> str:
    if value.__class__ is str:  # most cells: checked first (80,000 of them a 10,000-row table)
        return value or "-"  # type: ignore[return-value]
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return age(value)
    return str(value)


def age(moment: datetime | None, *, now: datetime | None = None) -> str:
    """``42s``, ``5m``, ``3h``, ``2d``: how long ago, the way kubectl says it."""
    if moment is None:
        return "-"
    seconds = max(0, int(((now or datetime.now(UTC)) - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def timestamp(moment: datetime | None) -> str:
    """UTC to the millisecond: ``2026-01-01T10:00:00.123Z``."""
    if moment is None:
        return "-"
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def duration(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "-"
    return f"{(end - start).total_seconds():.1f}s"


def short(text: str | None, limit: int = 60) -> str:
    """One line of at most ``limit`` characters (errors can be long)."""
    if not text:
        return "-"
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."
