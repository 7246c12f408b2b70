"""Collecting what is wrong (errors) and what is doubtful (warnings) while loading.

Owns key-path rendering (``services.web.ports[1]``), the ``LoadWarning`` value, and the
translation of pydantic validation errors into ``ManifestError`` values with a key path and a
line. It must never raise for a problem in a file: problems are data, collected so that every
error of a file is reported at once; and no pydantic wording about internals reaches people.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from pydantic import ValidationError

from controller.models.errors import ManifestError
from controller.sources.loader.yamlmarks import KeyPath, Marks

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def render_path(path: KeyPath) -> str:
    """``("services", "web", "ports", 1)`` -> ``services.web.ports[1]``; odd keys are quoted."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            out += f".{part}" if out else part
        else:  # JSON-quoted: a newline or a quote in a key stays visible, on one line
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


@dataclass(frozen=True)
class LoadWarning:
    """Something accepted but worth a look (an unset variable, an obsolete key)."""

    file: str
    message: str
    line: int | None = None
    path: str = ""

    def render(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "path": self.path, "message": self.message}


@dataclass
class Issues:
    """Where problems of one document go: its file, its line marks and the key prefix under
    which it sits (``spec.compose`` for an inline compose document).

    ``scoped`` gives a view on another file or prefix that appends to the same lists, so a
    manifest collects the problems of the compose file it references.

    ``value_error`` reports a value that could not even be read (its interpolation failed): the
    raw text stays in its place for the checks that follow, and their errors at that key (or
    under it) are not reported a second time about text nobody meant as the value.
    """

    file: str
    marks: Marks | None = None
    prefix: KeyPath = ()
    errors: list[ManifestError] = field(default_factory=list)
    warnings: list[LoadWarning] = field(default_factory=list)
    unread: set[tuple[str, KeyPath]] = field(default_factory=set)  # (file, full key path)

    def scoped(self, *, file: str, marks: Marks | None, prefix: KeyPath = ()) -> Issues:
        return Issues(
            file=file,
            marks=marks,
            prefix=prefix,
            errors=self.errors,
            warnings=self.warnings,
            unread=self.unread,
        )

    def _where(self, path: KeyPath, *, written: KeyPath | None = None) -> tuple[int | None, str]:
        full = (*self.prefix, *path)
        at = full if written is None else (*self.prefix, *written)
        line = self.marks.line(at) if self.marks else None
        return line, render_path(full)

    def error(self, path: KeyPath, message: str, *, written: KeyPath | None = None) -> None:
        """``written``: where the value is written in the file, for its line, when ``path``
        is a canonical one the file does not spell (a sorted list's index, the name of a
        list-form environment entry)."""
        if self.unread:
            full = (*self.prefix, *path)
            if any((self.file, full[:end]) in self.unread for end in range(len(full) + 1)):
                return  # said already: the value there could not be read
        line, rendered = self._where(path, written=written)
        self.errors.append(ManifestError(file=self.file, line=line, path=rendered, message=message))

    def has_error_at(self, path: KeyPath) -> bool:
        rendered = render_path((*self.prefix, *path))
        return any(e.file == self.file and e.path == rendered for e in self.errors)

    def value_error(self, path: KeyPath, message: str) -> None:
        self.error(path, message)
        self.unread.add((self.file, (*self.prefix, *path)))

    def drop_repeats(self, *, since: int, refused: set[str]) -> None:
        """Drop the errors of this file added after the first ``since`` ones that sit at or
        under a key of ``refused`` (rendered key paths): the Compose schema said what is wrong
        there first. Our rules still saw their own errors meanwhile (they stop building what
        failed), so only the wording is dropped, never the fact."""
        if not refused:
            return

        def said(error: ManifestError) -> bool:
            return error.file == self.file and any(
                error.path == key or error.path.startswith((f"{key}.", f"{key}["))
                for key in refused
            )

        self.errors[since:] = [e for e in self.errors[since:] if not said(e)]

    def warn(self, path: KeyPath, message: str) -> None:
        line, rendered = self._where(path)
        self.warnings.append(LoadWarning(file=self.file, line=line, path=rendered, message=message))

    def validation_errors(self, exc: ValidationError, *, base: KeyPath = ()) -> None:
        """Translate each pydantic error into an error at ``base`` + its location."""
        for err in exc.errors(include_url=False, include_context=False, include_input=False):
            loc = tuple(part for part in err["loc"] if isinstance(part, int) or "[" not in part)
            self.error((*base, *loc), _message(err["type"], err["msg"]))

    @property
    def failed(self) -> bool:
        return bool(self.errors)


def _message(kind: str, text: str) -> str:
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    # pydantic's wording starts upper-case ("Input should be ..."); ours reads as a clause.
    text = text.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return text[:1].lower() + text[1:]
