"""Stack names: Compose's project-name rule.

A name given explicitly (``metadata.name``, a compose file's ``name:``) must already follow
the rule; a name taken from a folder or file name is normalized the way Compose normalizes
project names (lowercased, characters outside ``[a-z0-9_-]`` dropped, leading ``_``/``-``
trimmed), so ``MyApp/`` is the stack ``myapp``. Pure string functions; they never touch
the file system.
"""

from __future__ import annotations

import json
import re

STACK_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
MAX_STACK_NAME = 63


def normalize_name(raw: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "", raw.lower()).lstrip("_-")


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid stack name, or None."""
    if not name:
        return "a stack name cannot be empty"
    if len(name) > MAX_STACK_NAME:
        return f"stack name `{_shown(name)}` is longer than {MAX_STACK_NAME} characters"
    if not STACK_NAME.fullmatch(name):  # fullmatch: `$` would let a trailing newline through
        return f"stack name `{_shown(name)}` must match [a-z0-9][a-z0-9_-]* (lowercase)"
    return None


def _shown(name: str) -> str:
    """The name with control characters escaped (``shop\\n``), so a message stays one line."""
    return json.dumps(name, ensure_ascii=False)[1:-1]
