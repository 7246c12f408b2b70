"""The HTTP surface (FastAPI): read endpoints, probes, metrics, and token-guarded actions.

Like the CLI it sits on top: it reads through the repositories, writes only through
``controller.commands.operations`` (which enqueue commands), and never imports ``docker`` or
``sqlite3``. ``create_app`` builds the app (``app.py``); ``start_server`` serves it from a
thread of ``stackctl run`` (``server.py``); ``metrics.py`` computes the Prometheus metrics
from the database at scrape time. It binds 127.0.0.1 unless told otherwise.
"""

from controller.web.api.app import create_app
from controller.web.api.server import ApiServer, start_server

__all__ = ["ApiServer", "create_app", "start_server"]
