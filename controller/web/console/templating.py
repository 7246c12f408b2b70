"""The console's Jinja2 templates and ``render``: every page and fragment gets the request's
``access`` (the token form and the buttons depend on it). Autoescaping is on: names, messages
and errors come from manifests and engines, and are shown as text."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from controller import __version__
from controller.web.console.auth import access
from controller.web.console.views import FILTERS, PAGE_SIZE

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["version"] = __version__
templates.env.globals["filters"] = FILTERS


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _clock(value: datetime | None) -> str:
    """The UTC time as people read it; the page script turns it into "3 min ago"."""
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "-"


def _query(values: dict[str, Any]) -> str:
    """A URL's query of the values that say something: empty ones, page 1 and the default
    page size are left out (``/`` is the first page of every stack)."""
    defaults = {"page": 1, "per": PAGE_SIZE}
    return urlencode(
        {k: v for k, v in values.items() if v not in ("", None) and defaults.get(k) != v}
    )


def _css_string(value: str) -> str:
    """``value`` as a quoted CSS string (for a selector): anything but letters, digits, ``-``
    and ``_`` escaped by its code point."""
    return '"' + "".join(c if c.isalnum() or c in "-_" else f"\\{ord(c):x} " for c in value) + '"'


templates.env.filters["iso"] = _iso
templates.env.filters["clock"] = _clock
templates.env.filters["query"] = _query
templates.env.filters["css_string"] = _css_string


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(
        request, template, {"access": access(request), **context}, status_code=status_code
    )


def render_text(request: Request, template: str, **context: Any) -> str:
    """A template as a string (a fragment inside another, or one line of a stream)."""
    return templates.get_template(template).render(
        request=request, access=access(request), **context
    )
