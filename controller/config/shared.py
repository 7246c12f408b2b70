"""What the settings other commands take too say (``--db``, ``--engines``, ``--timeout``): their
help and default, here without pydantic so that every command declares its option from them
(``cli/running.py``: a one-shot command loads no settings model), and ``Settings``' field of
each says the same (``Cli(shared=True)``): one text per flag.
"""

from __future__ import annotations

DB_HELP = "Database file (also before the command: stackctl --db FILE ...)."

ENGINES_HELP = (
    "YAML file naming the engines stacks may target with spec.target.engine (unix://,"
    " tcp:// with TLS files); `local` always exists."
)
ENGINES_SHOWN = "local only"

# One wait for every command that converges (apply, sync, rollback, resume, delete, run, ...):
# --timeout bounds both the health and dependency waits and how long --wait follows.
TIMEOUT_HELP = "Seconds to wait for dependencies and health, and for the command to end."
TIMEOUT_SECONDS = 120.0
