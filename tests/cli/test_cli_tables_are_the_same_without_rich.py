"""Tables printed off a terminal are laid out without rich (``output.plain_table``), character
for character as rich lays them out; on a terminal, or with cells rich measures its own way
(wide characters, tabs, newlines), rich prints them."""

from __future__ import annotations

import io
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.cli import output

ascii_cell = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12)


def by_rich(columns, rows, indent, monkeypatch) -> str:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    output.rich_table(columns, rows, indent=indent)
    return out.getvalue()


@settings(max_examples=300, deadline=None)
@given(
    columns=st.lists(ascii_cell.filter(bool), min_size=1, max_size=6),
    data=st.data(),
    indent=st.sampled_from([0, 2, 4]),
)
def test_the_same_characters_as_rich(columns, data, indent):
    rows = data.draw(
        st.lists(st.lists(ascii_cell, min_size=len(columns), max_size=len(columns)), max_size=5)
    )
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.delenv("FORCE_COLOR", raising=False)
        monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
        assert output.plain_cells(columns, rows)
        assert output.plain_table(columns, rows, indent=indent) == by_rich(
            columns, rows, indent, monkeypatch
        )


@pytest.mark.parametrize("cell", ["über", "日本", "a\tb", "two\nlines", "\x1b[1m"])
def test_cells_rich_measures_itself_go_to_rich(cell):
    assert not output.plain_cells(["A", "B"], [["x", cell]])


def test_a_terminal_or_forced_colour_goes_to_rich(monkeypatch):
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert output.plain_terminal()
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert not output.plain_terminal()
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    assert output.plain_terminal()


def test_print_table_prints_it_plainly_off_a_terminal(monkeypatch, capsys):
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setitem(sys.modules, "rich", None)  # importing rich would fail
    output.print_table(["NAME", "READY"], [["shop", True], ["blog", None]])
    output.print_table(["NAME"], [], indent=2)
    assert capsys.readouterr().out == "NAME   READY\nshop   yes  \nblog   -    \n  (none)\n"
