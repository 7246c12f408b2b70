"""``SecurityHeaders``: what every answer tells the browser, console and API alike.

- ``Content-Security-Policy``: an HTML page (the console) loads scripts, styles, data and
  connections from the controller only, runs no inline script or style (the console has none;
  htmx is told not to add its own, see base.html) and no ``eval``; anything else (JSON, text,
  static files) may load nothing. A route that needs another policy sets its own and keeps it
  (``/docs`` allows Swagger UI's one inline script by its hash).
- ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``: no other page frames the console
  (clickjacking its buttons).
- ``X-Content-Type-Options: nosniff``: an answer is only what its type says.
- ``Referrer-Policy: no-referrer``: a link followed from the console does not tell the other
  site the console's address and the stack names in it.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FRAME_ANCESTORS = "frame-ancestors 'none'"
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def page_policy(*, inline_scripts: tuple[str, ...] = ()) -> str:
    """The policy of an HTML page, allowing ``inline_scripts`` (``'sha256-...'`` sources)."""
    return "; ".join(
        (
            "default-src 'self'",
            " ".join(("script-src 'self'", *inline_scripts)),
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "object-src 'none'",
            FRAME_ANCESTORS,
        )
    )


PAGE_POLICY = page_policy()
NOTHING_POLICY = f"default-src 'none'; base-uri 'none'; {FRAME_ANCESTORS}"


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP answer that lacks them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers.setdefault(name, value)
                page = headers.get("content-type", "").startswith("text/html")
                policy = PAGE_POLICY if page else NOTHING_POLICY
                headers.setdefault("Content-Security-Policy", policy)
            await send(message)

        await self.app(scope, receive, answer)
