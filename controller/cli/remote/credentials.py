"""The tokens ``stackctl login`` keeps, one per server, and which token a command sends.

The file is ``$XDG_CONFIG_HOME/stackctl/credentials.json`` (``~/.config/stackctl/...`` when
the variable is unset or not absolute, as the XDG Base Directory specification says): a JSON
object ``{"https://ctl.example.com": "stk_..."}``. Only its owner may read it: the file is
written 0600 (a new file, then renamed over the old one: never a moment with another mode),
its folder 0700.

A command's token: ``--token-file FILE`` (its first line), else ``STACKCTL_TOKEN``, else the
stored one for the server; none at all is fine for a controller whose reads are open.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

from controller.cli.remote import TOKEN_ENV
from controller.cli.remote.client import RemoteError

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def credentials_path(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_CONFIG_HOME", "")
    if not base or not Path(base).is_absolute():
        home = environ.get("HOME") or str(Path.home())
        base = str(Path(home) / ".config")
    return Path(base) / "stackctl" / "credentials.json"


def stored(environ: Mapping[str, str]) -> dict[str, str]:
    """Every stored token by server (empty: no file yet)."""
    path = credentials_path(environ)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise RemoteError(f"{path}: cannot read the stored tokens: {e}") from None
    if not isinstance(data, dict):
        raise RemoteError(f"{path}: not a JSON object of server -> token")
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def store(environ: Mapping[str, str], server: str, token: str) -> Path:
    """Keep ``token`` for ``server`` (replacing any), readable by the owner only."""
    tokens = stored(environ)
    tokens[server] = token
    return _write(credentials_path(environ), tokens)


def forget(environ: Mapping[str, str], server: str) -> bool:
    """Remove the token of ``server``; False when none was stored."""
    tokens = stored(environ)
    if tokens.pop(server, None) is None:
        return False
    _write(credentials_path(environ), tokens)
    return True


def _write(path: Path, tokens: dict[str, str]) -> Path:
    folder = path.parent
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    os.chmod(folder, FOLDER_MODE)  # an existing folder too: the tokens are in it
    fresh = folder / f".{path.name}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        fresh.unlink()
    descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(descriptor, "w") as out:
            json.dump(tokens, out, indent=2, sort_keys=True)
            out.write("\n")
        os.replace(fresh, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            fresh.unlink()
        raise
    return path


def read_token_file(path: Path) -> str:
    """The token in ``path``: its first line, stripped."""
    try:
        text = path.read_text()
    except OSError as e:
        raise RemoteError(f"--token-file {path}: {e.strerror or e}", code=2) from None
    token = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not token:
        raise RemoteError(f"--token-file {path}: the file is empty", code=2)
    return token


def token_for(server: str, token_file: Path | None, environ: Mapping[str, str]) -> str | None:
    """The token a command sends to ``server`` (see the module's docstring)."""
    if token_file is not None:
        return read_token_file(token_file)
    if environ.get(TOKEN_ENV, "").strip():
        return environ[TOKEN_ENV].strip()
    return stored(environ).get(server)
