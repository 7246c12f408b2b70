"""The files a manifest may name outside its compose part: inside its root or ``--secrets-dir``.

A ``webhook+`` destination's ``secret_file``, a Repository's ``auth``, ``webhook`` and
``commitStatus`` files are read by the controller (as HMAC keys, tokens, SSH keys), so a
manifest naming ``/etc/shadow`` there would make the controller an oracle for any host file.
They are confined like every other path of a manifest: resolved (symlinks included), they must
lie inside the manifest's root (the watched directory, or a repository's checkout) or inside
the operator's ``--secrets-dir`` (``Reach.secrets_dir``). Destinations are checked by
``controller.desired.reach``. Nothing here reads a file's content.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from controller.desired.reach import WEBHOOK, Reach
from controller.sources.loader.root import Root, realpath


def file_problem(path: Path, *, root: Root, reach: Reach) -> str | None:
    """Why a manifest may not name ``path`` (absolute), or ``None``."""
    if "\x00" in str(path):
        return "the path contains a NUL byte"
    real = realpath(path)
    inside = [root.real]
    if reach.secrets_dir is not None:
        inside.append(Path(realpath(reach.secrets_dir)))
    if any(real == str(f) or real.startswith(str(f).rstrip("/") + "/") for f in inside):
        return None
    where = "the manifest's root" + (
        f" or --secrets-dir ({reach.secrets_dir})" if reach.secrets_dir is not None else ""
    )
    return f"`{path}` is outside {where}: a manifest may name only files inside it" + (
        "" if reach.secrets_dir is not None else " (the operator may give --secrets-dir)"
    )


def webhook_secret_problem(url: str, *, root: Root, reach: Reach) -> str | None:
    """The problem of a ``webhook+`` URL's ``secret_file``: it must be an absolute path (the
    sender reads it, from its own working directory) inside the root or ``--secrets-dir``."""
    if not url.startswith(WEBHOOK):
        return None
    query = dict(parse_qsl(urlsplit(url[len(WEBHOOK) :]).query))
    secret = query.get("secret_file")
    if not secret:
        return None  # the URL check says it is missing
    path = Path(secret)
    if not path.is_absolute():
        return f"secret_file `{secret}` must be an absolute path"
    problem = file_problem(path, root=root, reach=reach)
    return f"secret_file {problem}" if problem else None
