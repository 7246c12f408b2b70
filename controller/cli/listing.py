"""How ``stackctl get KIND`` prints its lists, as ``kubectl get`` does: ``-o wide`` (more
columns), ``-o name`` (``stack/shop``, one a line, for scripts and ``xargs``), ``-o json|yaml``
(the models), and ``-w/--watch`` (the list, then each row again whenever it changes, until ^C).

Nothing here reads the database: a command passes a ``fetch`` callable that lists the items, and
says how each one becomes a row.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from controller.cli.output import (
    Output,
    cell_text,
    plain_text,
    print_data,
    print_table,
    to_plain,
)

WATCH_SECONDS = 1.0


class GetOutput(StrEnum):
    TABLE = "table"
    WIDE = "wide"
    NAME = "name"
    JSON = "json"
    YAML = "yaml"


def __getattr__(name: str) -> Any:
    # The options are made on first use (PEP 562): importing this module loads no typer, so
    # that `get stacks` can print before typer is loaded (quick.py).
    if name not in ("GET_OUTPUT_OPTION", "WATCH_OPTION"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import typer

    if name == "GET_OUTPUT_OPTION":
        option = typer.Option(
            GetOutput.TABLE,
            "--output",
            "-o",
            help="table or wide (more columns) for people; name (kind/name); json or yaml for"
            " scripts.",
        )
    else:
        option = typer.Option(
            False, "--watch", "-w", help="Then print each row again when it changes, until ^C."
        )
    globals()[name] = option
    return option


@dataclass(frozen=True)
class Listing:
    """How one kind prints: its columns (``wide`` ones appended with ``-o wide``), a row per
    item, and the item's ``kind/name``."""

    kind: str
    columns: Sequence[str]
    row: Callable[[Any], Sequence[object]]
    name: Callable[[Any], object]
    wide_columns: Sequence[str] = ()
    wide_row: Callable[[Any], Sequence[object]] = lambda _: ()

    def rows(self, items: Sequence[Any], *, wide: bool) -> list[list[object]]:
        return [[*self.row(i), *(self.wide_row(i) if wide else ())] for i in items]

    def header(self, *, wide: bool) -> list[str]:
        return [*self.columns, *(self.wide_columns if wide else ())]


def print_listing(
    listing: Listing,
    fetch: Callable[[], Sequence[Any]],
    output: GetOutput,
    *,
    watch: bool = False,
) -> None:
    items = fetch()
    if not watch:
        print_all(listing, items, output)
        return
    _watch(listing, fetch, items, output)


def print_all(listing: Listing, items: Sequence[Any], output: GetOutput) -> None:
    match output:
        case GetOutput.JSON | GetOutput.YAML:
            print_data(list(items), Output(output.value))
        case GetOutput.NAME:
            names = [f"{listing.kind}/{listing.name(item)}" for item in items]
            if all(plain_text(name) for name in names):  # what typer.echo would write
                sys.stdout.write("".join(f"{name}\n" for name in names))
                sys.stdout.flush()
                return
            import typer

            for name in names:
                typer.echo(name)
        case _:
            wide = output is GetOutput.WIDE
            print_table(listing.header(wide=wide), listing.rows(items, wide=wide))


def _watch(
    listing: Listing, fetch: Callable[[], Sequence[Any]], items: Sequence[Any], output: GetOutput
) -> None:
    """kubectl's ``-w``: the rows now, then a row each time an item appears or changes. The
    column widths are the first listing's (a later, longer cell widens only its own line)."""
    import typer

    from controller.cli import running

    wide = output is GetOutput.WIDE
    header = listing.header(wide=wide)
    widths = [len(c) for c in header]
    for row in listing.rows(items, wide=wide):
        widths = [max(w, len(cell_text(v))) for w, v in zip(widths, row, strict=True)]

    def show(item: Any) -> None:
        match output:
            case GetOutput.JSON | GetOutput.YAML:  # one object a line: it can be followed
                typer.echo(json.dumps(to_plain(item), ensure_ascii=False))
            case GetOutput.NAME:
                typer.echo(f"{listing.kind}/{listing.name(item)}")
            case _:
                [row] = listing.rows([item], wide=wide)
                typer.echo(_line(row, widths))

    if output in (GetOutput.TABLE, GetOutput.WIDE):
        typer.echo(_line(header, widths))
    seen: dict[object, Any] = {}
    with contextlib.suppress(KeyboardInterrupt):  # ^C ends a watch
        while True:
            for item in items:
                key, plain = listing.name(item), to_plain(item)
                if seen.get(key) != plain:
                    seen[key] = plain
                    show(item)
            running.pause(WATCH_SECONDS)  # looked up each time: tests step time through it
            items = fetch()


def _line(cells: Sequence[object], widths: Sequence[int]) -> str:
    texts = [cell_text(c) for c in cells]
    padded = [t.ljust(w) for t, w in zip(texts[:-1], widths, strict=False)]
    return "   ".join([*padded, texts[-1]]).rstrip()
