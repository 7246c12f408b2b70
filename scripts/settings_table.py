"""Write docs/configuration.md's table of settings from ``controller.config.settings.Settings``.

    python scripts/settings_table.py          # rewrite the table between its markers
    python scripts/settings_table.py --check  # exit 1 when the page's table is not the model's

``tests/docs/test_settings_table_is_the_models.py`` runs the check.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "configuration.md"
BEGIN = "<!-- settings table: written by scripts/settings_table.py, do not edit -->"
END = "<!-- end of the settings table -->"


def with_table(page: str, table: str) -> str:
    """``page`` with the text between the markers replaced by ``table``."""
    head, found, rest = page.partition(BEGIN)
    _, found_end, tail = rest.partition(END)
    if not found or not found_end:
        raise SystemExit(f"{PAGE}: the markers {BEGIN!r} and {END!r} are missing")
    return f"{head}{BEGIN}\n{table}{END}{tail}"


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    from controller.config.settings import settings_table

    page = PAGE.read_text()
    wanted = with_table(page, settings_table())
    if "--check" in argv:
        if wanted != page:
            print(f"{PAGE} differs from the settings model: run python scripts/settings_table.py")
            return 1
        return 0
    PAGE.write_text(wanted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
