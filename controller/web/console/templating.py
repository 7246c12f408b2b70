"""The console's Jinja2 templates and ``render``: every page and fragment gets the request's
``access`` (the token form and the buttons depend on it). Autoescaping is on: names, messages
and errors come from manifests and engines, and are shown as text."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from controller import __version__
from controller.web.console.auth import access
from controller.web.console.views import FILTERS

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["version"] = __version__
templates.env.globals["filters"] = FILTERS


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _clock(value: datetime | None) -> str:
    """The UTC time as people read it; the page script turns it into "3 min ago"."""
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "-"


templates.env.filters["iso"] = _iso
templates.env.filters["clock"] = _clock


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(
        request, template, {"access": access(request), **context}, status_code=status_code
    )


def render_text(request: Request, template: str, **context: Any) -> str:
    """A template as a string (a fragment inside another, or one line of a stream)."""
    return templates.get_template(template).render(
        request=request, access=access(request), **context
    )
