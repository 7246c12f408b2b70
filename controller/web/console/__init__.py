"""The web console: server-rendered pages over the same repositories as the HTTP API.

``router`` (``controller.web.console.pages``, ``actions``, ``streams``) is mounted by
``controller.web.api.app`` at ``/``: the stacks table, a stack's page (conditions, containers,
versions and the diff between any two, commands, events), a command's page with its log
streamed live (server-sent events), and the actions (sync, rollback, suspend, resume, cancel)
calling ``controller.commands.operations`` as the CLI and the API do. Pages are Jinja2 templates;
partial updates use the vendored htmx (``static/htmx.min.js``, its licence beside it), so
there is no build step and nothing is loaded from the internet.

It reads through ``controller.db`` and never talks to the engine: the containers a stack runs
come from an ``observe`` callable the daemon passes (absent: shown as unknown).
"""

from __future__ import annotations

from controller.web.console.routes import mount_console

__all__ = ["mount_console"]
