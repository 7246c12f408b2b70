"""``apply PATH`` and ``diff PATH`` through the API: the folder's files go to the controller,
which loads them with its own loader and rules (``POST /api/v1/apply``, ``/api/v1/diff``).

What is sent: every regular file under the folder (PATH, or the folder of the file PATH, which
alone is then loaded, as the local ``apply FILE`` loads it), hidden ones included (``.env``),
``.git`` left out; a symbolic link as the file it points to when that is inside the folder,
else left out with a warning. The body is JSON, ``{"files": {"rel/path": base64}, "path":
FILE, "executable": [...]}`` (which files may be run: an entrypoint script in a bind mount);
the controller refuses one over its size limit (413).

``apply`` prints what the local one prints (``recorded v3``, ``unchanged (v2)``, the queued
commands); the controller records each version as the caller and queues its APPLY, and its
workers converge it: ``--wait`` follows each command to its end (exit 0 when every stack
converged). Invalid manifests record nothing: each error is printed with its file, line, key
and problem (exit 1). ``diff`` prints the controller's plan against its engine; exit 0 no
differences, 1 differences, 2 error, as the local ``diff``.
"""

from __future__ import annotations

import argparse
import base64
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from controller.cli.plain_io import echo
from controller.cli.remote.client import RemoteError
from controller.cli.remote.writes import wait_for, wait_options

MAX_FOLDER = 64 * 1024 * 1024  # bytes read before giving up: the controller's limit is lower
SKIPPED_FOLDERS = frozenset({".git"})
SEND_TIMEOUT = 300.0  # seconds for the controller to load (and plan) what it was sent
Add = Callable[..., argparse.ArgumentParser]


def add_commands(add: Add) -> None:
    apply = add("apply", apply_path, "Send PATH's manifests to the controller: record, queue.")
    apply.add_argument("path", type=Path)
    wait_options(apply)
    diff = add("diff", diff_path, "The controller's plan for PATH's manifests, not carried out.")
    diff.add_argument("path", type=Path)


def collect(path: Path) -> dict[str, Any]:
    """The request body for ``path`` (see the module's docstring)."""
    if not path.exists():
        raise RemoteError(f"{path}: no such file or directory", code=2)
    root = (path if path.is_dir() else path.parent).absolute()
    files: dict[str, str] = {}
    executable: list[str] = []
    total = 0
    for folder, subfolders, names in os.walk(root):
        here = Path(folder)
        subfolders[:] = sorted(d for d in subfolders if _keep_folder(root, here / d))
        for name in sorted(names):
            content = _content(root, here / name)
            if content is None:
                continue
            total += len(content)
            if total > MAX_FOLDER:
                raise RemoteError(
                    f"{root} holds over {MAX_FOLDER // 2**20} MiB: apply sends the whole"
                    " folder; give the folder of the manifests",
                    code=2,
                )
            relative = (here / name).relative_to(root).as_posix()
            files[relative] = base64.b64encode(content).decode()
            if os.access(here / name, os.X_OK):
                executable.append(relative)
    entry = None if path.is_dir() else path.name
    return {"files": files, "path": entry, "executable": executable}


def _keep_folder(root: Path, folder: Path) -> bool:
    if folder.name in SKIPPED_FOLDERS:
        return False
    if folder.is_symlink():
        echo(f"warning: {folder.relative_to(root)}: a link to a folder, not sent", err=True)
        return False
    return True


def _content(root: Path, file: Path) -> bytes | None:
    """The bytes to send for ``file``; ``None``: left out (said when it is a link outside)."""
    shown = file.relative_to(root)
    if file.is_symlink():
        target = file.resolve()
        if not target.is_relative_to(root.resolve()) or not target.is_file():
            echo(f"warning: {shown}: a link to {target}, outside the folder: not sent", err=True)
            return None
    elif not file.is_file():
        return None  # a socket, a fifo: nothing a manifest reads
    try:
        return file.read_bytes()
    except OSError as e:
        raise RemoteError(f"{shown}: {e.strerror or e}", code=2) from None


def _warnings(answer: dict[str, Any]) -> None:
    from controller.cli.remote.commands import problem_line

    for warning in answer.get("warnings") or []:
        echo(f"warning: {problem_line(warning)}", err=True)


def apply_path(session: Any, found: argparse.Namespace) -> int:
    answer = session.client.post("/apply", collect(found.path), timeout=SEND_TIMEOUT)
    _warnings(answer)
    table = session.output == "table"
    queued = []
    for stack in answer["stacks"]:
        echo(_recorded(stack), err=not table)
        command = stack.get("command")
        if command is not None:
            queued.append(command)
            if not found.wait:
                echo(f"queued command {command['command_id']} ({command['type']}"
                     f" {command['stack_id']})", err=not table)  # fmt: skip
    if not found.wait:
        if not table:
            from controller.cli.remote.reads import print_data

            print_data(answer, session.output)
        return 0
    return _converge(session, queued, timeout=found.timeout)


def _recorded(stack: dict[str, Any]) -> str:
    name = stack["name"]
    if stack["version"] is None:
        return f"{name}: unchanged ({stack.get('current')})"
    said = f"{name}: recorded {stack['version']} (digest {stack['digest'][:12]})"
    if stack.get("pinned"):
        said += (
            f"\n{name}: pinned at {stack.get('current')}; {stack['version']} is not applied"
            f" until `stackctl resume {name}`"
        )
    return said


def _converge(session: Any, commands: list[dict[str, Any]], *, timeout: float) -> int:
    """Follow each command; ``NAME: converged`` or what stands in the way (``outcome``)."""
    failed = 0
    table = session.output == "table"
    for command in commands:
        final = wait_for(
            session.client, command, timeout=timeout, say=lambda line: echo(line, err=not table)
        )
        stack = session.client.get(f"/stacks/{final['stack_id']}")
        status = outcome(final, stack)
        failed += status != "converged"
        echo(f"{final['stack_id']}: {status}", err=not table)
    return 1 if failed else 0


def outcome(command: dict[str, Any], stack: dict[str, Any]) -> str:
    """``converged``, or what stands in the way (as ``converging.outcome``)."""
    if command["status"] != "DONE":
        return f"{command['status']}: {command.get('error')}"
    if stack.get("health_status") not in ("Healthy", "Suspended"):
        return f"applied, but {stack.get('health_status')}: {stack.get('last_error')}"
    return "converged"


def diff_path(session: Any, found: argparse.Namespace) -> int:
    try:
        answer = session.client.post("/diff", collect(found.path), timeout=SEND_TIMEOUT)
    except RemoteError as e:
        e.code = 2  # diff's contract: 2 for every error, 1 for differences
        raise
    _warnings(answer)
    if session.output != "table":
        from controller.cli.remote.reads import print_data

        print_data(answer, session.output)
    else:
        for stack in answer["stacks"]:
            for line in stack["lines"]:
                echo(line)
    return 1 if any(stack["differences"] for stack in answer["stacks"]) else 0
