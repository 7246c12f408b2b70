"""The Compose view of a service: the service exactly as Docker Compose v2.40.3 (compose-go
v2.9.1) holds it when it computes the ``com.docker.compose.config-hash`` label.

``compose_view(mapping, environment=..., variables=..., base=...)`` takes one service's raw
mapping as the loader holds it (YAML loaded, variables interpolated, ``$$`` already ``$``) and
returns a dict equal to ``docker compose config --format json``'s ``services.<name>`` with
``$$`` un-doubled, minus what Compose's hash drops (``build``, ``pull_policy``, ``scale``,
``deploy.replicas``, ``depends_on``, ``profiles``, ``x-*``) and minus ``env_file`` (``up``
merges env files into ``environment`` and drops ``env_file``). Short syntaxes are expanded as
compose-go does; durations are Go strings (``1m30s``), byte sizes ints, secret/config modes
octal strings (``0440``); ``command`` and ``entrypoint`` are always there (``None`` when
unset); ``networks: {"default": None}`` is added when neither ``networks`` nor
``network_mode`` is.

Host paths. Where Compose puts an absolute path, the view keeps it as written when written
absolute or with ``~``, and otherwise relative to the stack's folder (posix, cleaned, possibly
starting with ``../``). The fields holding such paths: ``volumes[].source`` of ``type: bind``
and ``develop.watch[].path``. ``with_host_paths(view, folder=..., home=...)`` makes them what
Compose prints for a stack in ``folder`` (Compose also resolves a symlink at a watch path).

Environment. ``environment`` is the merged one stackctl gives the container (env files, then
``environment``). A name written without a value (``- FOO``) is, in Compose, looked up in the
project environment: the view gives it the interpolation ``variables``' value, or ``None``
(``null``) when they have none, i.e. it assumes the shell running ``docker compose`` does not
set it either.

``None`` (``explain`` says why) when an exact view is impossible: ``network_mode``, ``ipc`` or
``pid`` ``service:X`` (Compose hashes X's current container id); an environment value that
is a SOPS placeholder (the hash would need the plaintext); a value where stackctl's reading
differs from Compose's (a bare name Compose fills from the variables or leaves unset while
stackctl does not, a command go-shellwords splits differently from ``shlex``); and any key or
form not reproduced here (``devices``, ``gpus``, ``blkio_config``, ...). ``extends`` is
merged into the mapping before it gets here (``compose_extends``), as compose-go merges it
before it hashes; an ``extends`` still there is one that failed.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Callable, Mapping
from typing import Any

from controller.sources.loader.compose_view import fields as f
from controller.sources.loader.compose_view import mounts, structs
from controller.sources.loader.compose_view.gotext import NoView
from controller.sources.secrets.placeholders import placeholders_in

__all__ = ["DROPPED", "NoView", "compose_view", "explain", "with_host_paths"]

# Keys Compose's hash leaves out (pkg/compose/hash.go), and env_file, merged by `up`.
DROPPED = frozenset({"build", "pull_policy", "scale", "depends_on", "profiles", "env_file"})
_SHARED = ("network_mode", "ipc", "pid")

# fmt: off
_KEYS: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys(
        [
            "container_name", "hostname", "domainname", "user", "working_dir", "stop_signal",
            "platform", "ipc", "pid", "cgroup_parent", "cgroup", "runtime", "isolation",
            "userns_mode", "uts", "mac_address", "restart", "image", "cpuset", "network_mode",
        ],
        f.text,
    ),
    **dict.fromkeys(
        ["privileged", "read_only", "tty", "stdin_open", "oom_kill_disable", "use_api_socket"],
        f.flag,
    ),
    **dict.fromkeys(["init", "attach"], f.pointer_flag),
    **dict.fromkeys(
        [
            "oom_score_adj", "cpu_shares", "pids_limit", "cpu_count", "cpu_period", "cpu_quota",
            "cpu_rt_period", "cpu_rt_runtime",
        ],
        f.integer,
    ),
    **dict.fromkeys(["cpus", "cpu_percent"], f.number32),
    **dict.fromkeys(
        ["mem_limit", "mem_reservation", "memswap_limit", "mem_swappiness", "shm_size"], f.size
    ),
    **dict.fromkeys(["cap_add", "cap_drop", "dns_opt", "dns_search", "links"], f.keyed_strings),
    **dict.fromkeys(["group_add", "security_opt", "device_cgroup_rules"], f.strings),
    **dict.fromkeys(["external_links"], f.strings),
    **dict.fromkeys(["labels", "sysctls", "annotations", "storage_opt"], f.mapping),
    "dns": f.dns,
    "stop_grace_period": lambda value: None if value is None else f.go_duration(value),
    "extra_hosts": f.extra_hosts,
    "ulimits": f.ulimits,
    "logging": f.logging,
    "secrets": lambda value: f.file_refs(value, secret=True),
    "configs": lambda value: f.file_refs(value, secret=False),
    "networks": f.networks,
    "ports": mounts.ports,
    "expose": mounts.expose,
    "tmpfs": mounts.tmpfs,
    "healthcheck": lambda value: structs.struct(value, structs.HEALTHCHECK, what="healthcheck"),
    "deploy": lambda value: structs.struct(value, structs.DEPLOY, what="deploy"),
    "post_start": structs.hooks,
    "pre_stop": structs.hooks,
}
# fmt: on
# Kept even when empty: a pointer (`healthcheck: {}` is `{}`) or a command (`[]` is not null).
_KEEP_EMPTY = frozenset({"healthcheck", "deploy", "command", "entrypoint", "develop"})


def compose_view(
    mapping: Mapping[str, Any],
    *,
    environment: Mapping[str, str],
    variables: Mapping[str, str] = {},
    base: str = ".",
) -> dict[str, Any] | None:
    """The service as Compose hashes it, or None when no exact view exists (see module doc).

    ``environment``: the merged environment stackctl gives the container; ``variables``: the
    interpolation variables (Compose's project environment); ``base``: the compose file's
    folder relative to the stack's folder (posix)."""
    view = explain(mapping, environment=environment, variables=variables, base=base)
    return view if isinstance(view, dict) else None


def explain(
    mapping: Mapping[str, Any],
    *,
    environment: Mapping[str, str],
    variables: Mapping[str, str] = {},
    base: str = ".",
) -> dict[str, Any] | str:
    """``compose_view``'s answer, or the reason there is none (a sentence naming the key)."""
    try:
        return _view(mapping, environment=environment, variables=variables, base=base)
    except NoView as e:
        return str(e)
    except (ValueError, TypeError, KeyError, AttributeError) as e:  # a value the loader refuses
        return f"a value the view cannot read: {e}"


def _view(
    mapping: Mapping[str, Any],
    *,
    environment: Mapping[str, str],
    variables: Mapping[str, str],
    base: str,
) -> dict[str, Any]:
    for key in _SHARED:
        if isinstance(mapping.get(key), str) and mapping[key].startswith("service:"):
            raise NoView(f"{key}: `{mapping[key]}`: Compose hashes that container's id")
    view: dict[str, Any] = {"command": None, "entrypoint": None}
    for key, raw in mapping.items():
        if key in DROPPED or key.startswith("x-") or key == "environment":
            continue
        value = _convert(key, raw, base=base)
        if value is not None and (value not in ("", [], {}) or key in _KEEP_EMPTY):
            view[key] = value
    if "network_mode" not in mapping and "networks" not in view:
        view["networks"] = {"default": None}
    merged = _environment(mapping.get("environment"), environment, variables)
    if merged:
        view["environment"] = merged
    return dict(sorted(view.items()))


def _convert(key: str, raw: Any, *, base: str) -> Any:
    try:
        if key in ("command", "entrypoint"):
            return _command(raw)
        if key == "volumes":
            return mounts.volumes(raw, base=base)
        if key == "develop":
            return structs.develop(raw, base=base)
        if key not in _KEYS:
            raise NoView("is not reproduced")
        return _KEYS[key](raw)
    except NoView as e:
        message = str(e)
        raise NoView(message if message.startswith(f"{key}:") else f"{key}: {message}") from None


def _command(raw: Any) -> list[str] | None:
    words = structs.command(raw)
    if isinstance(raw, str):
        try:
            ours = shlex.split(raw)
        except ValueError:
            ours = None
        if ours != words:
            raise NoView(f"Compose splits it as {words}, stackctl as {ours}")
    return words


def _environment(
    raw: Any, environment: Mapping[str, str], variables: Mapping[str, str]
) -> dict[str, str | None]:
    """Compose's environment: env files, then ``environment`` with bare names looked up."""
    merged: dict[str, str | None] = dict(environment)
    written = f.mapping(raw, empty=None) if raw is not None else None
    for name, value in (written or {}).items():
        if value is None:
            value = variables.get(name)
            why = "Compose takes it from the variables" if value else "Compose leaves it unset"
            if environment.get(name) != value:
                raise NoView(f"environment: `{name}` has no value: {why}, stackctl does not")
        elif environment.get(name) != value:
            ours = environment.get(name)
            raise NoView(f"environment: `{name}`: Compose reads {value!r}, stackctl {ours!r}")
        merged[name] = value
    for name, value in merged.items():
        if value is not None and placeholders_in(value):
            raise NoView(f"environment: `{name}` is a SOPS-encrypted value")
    return dict(sorted(merged.items()))


def with_host_paths(view: dict[str, Any], *, folder: str, home: str | None) -> dict[str, Any]:
    """The view with its host paths as Compose prints them for a stack in ``folder`` (absolute)
    run by a user whose home is ``home`` (None: unset, ``~`` then stays a relative path)."""
    out = dict(view)
    if view.get("volumes"):
        out["volumes"] = [
            {**v, "source": _host(v["source"], folder, home)} if v.get("type") == "bind" else v
            for v in view["volumes"]
        ]
    if view.get("develop", {}).get("watch"):
        watch = [{**w, "path": _host(w["path"], folder, home)} for w in view["develop"]["watch"]]
        out["develop"] = {**view["develop"], "watch": watch}
    return out


def _host(path: str, folder: str, home: str | None) -> str:
    if path.startswith("~") and home is not None:
        return posixpath.normpath(posixpath.join(home, path[1:].lstrip("/")))
    if path.startswith("/"):
        return path
    return posixpath.normpath(posixpath.join(folder, path))
