"""Write docs/contributing.md's map of the code from the packages' and modules' own docstrings.

    python scripts/code_map.py          # rewrite the map between its markers
    python scripts/code_map.py --check  # exit 1 when the page's map is not the code's

The map reads the code, never runs it: each package's ``__init__.py`` docstring and each
module's first sentence, so a module that moves or is added moves the map with it.
``tests/docs/test_code_map_is_the_codes.py`` runs the check.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "controller"
PAGE = ROOT / "docs" / "contributing.md"
BEGIN = "<!-- code map: written by scripts/code_map.py, do not edit -->"
END = "<!-- end of the code map -->"
# The top-level packages in the order of the flow (the import-linter layers, top to bottom).
LAYERS_LINE = re.compile(r'^layers = \[\n(?P<body>(?:    "[^"]+",\n)+)\]', re.M)


def first_sentence(path: Path) -> str:
    """The first sentence of the file's docstring, on one line, pipes escaped."""
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    text = " ".join(doc.split())
    match = re.match(r"(.+?\.)(\s|$)", text)
    sentence = (match.group(1) if match else text).rstrip(".")
    return sentence.replace("``", "`").replace("|", "\\|")


def layers() -> list[str]:
    """The top-level packages, top to bottom, as pyproject.toml's first layers contract says."""
    text = (ROOT / "pyproject.toml").read_text()
    match = LAYERS_LINE.search(text)
    if match is None:
        raise SystemExit("pyproject.toml: no layers contract over controller")
    return [line.strip().strip('",') for line in match["body"].splitlines()]


def package_rows(folder: Path, depth: int) -> list[str]:
    """One row for the package, then one per module, subpackages after their parent's modules."""
    rel = folder.relative_to(ROOT).as_posix()
    rows = [f"| **`{rel}/`** | {first_sentence(folder / '__init__.py')} |"]
    for module in sorted(folder.glob("*.py")):
        if module.name != "__init__.py":
            rows.append(f"| `{module.relative_to(ROOT).as_posix()}` | {first_sentence(module)} |")
    for sub in sorted(p for p in folder.iterdir() if (p / "__init__.py").is_file()):
        rows.extend(package_rows(sub, depth + 1))
    return rows


def code_map() -> str:
    rows = ["| path | what it owns |", "| --- | --- |"]
    for name in layers():
        rows.extend(package_rows(PACKAGE / name, 0))
    return "\n".join(rows) + "\n"


def with_map(page: str, table: str) -> str:
    head, found, rest = page.partition(BEGIN)
    _, found_end, tail = rest.partition(END)
    if not found or not found_end:
        raise SystemExit(f"{PAGE}: the markers {BEGIN!r} and {END!r} are missing")
    return f"{head}{BEGIN}\n{table}{END}{tail}"


def main(argv: list[str]) -> int:
    page = PAGE.read_text()
    wanted = with_map(page, code_map())
    if "--check" in argv:
        if wanted != page:
            print(f"{PAGE} differs from the code: run python scripts/code_map.py")
            return 1
        return 0
    PAGE.write_text(wanted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
