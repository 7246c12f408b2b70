"""The engines file (``--engines FILE``, ``STACKCTL_ENGINES``): named engines, read once at
start.

    engines:
      lab:    {host: "unix:///var/run/lab.sock"}
      edge-1: {host: "tcp://10.0.0.5:2376", tls: {ca: ca.pem, cert: cert.pem, key: key.pem}}
      edge-2: {host: "ssh://deploy@10.0.0.6", ssh: {known_hosts: known_hosts, identity: id_ed25519}}
      prod:   {kind: swarm, host: ["tcp://mgr1:2376", "tcp://mgr2:2376"], tls: {...}}

A ``kind: swarm`` engine may list several managers' addresses in ``host`` (tried in order, one
``tls``/``ssh`` for all); a Docker engine has one.

``local`` always exists (the engine ``DOCKER_HOST`` or the local socket names); the file may
redefine it. Relative TLS and SSH paths start at the file's folder. Every problem is a
``ManifestError`` naming the file, the key (``engines.edge-1.tls.key``) and what is wrong.
The TLS and SSH files named are checked to exist here, so that a typo stops the start, not the
first apply (the default ``~/.ssh/known_hosts`` is the runtime's: a host it lacks is refused
when connecting).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from controller.desired.engine_spec import LOCAL, EngineSpec, engine_name_problem
from controller.models.errors import ManifestError
from controller.sources.loader.yamlload import load_documents


def local_only() -> dict[str, EngineSpec]:
    return {LOCAL: EngineSpec(name=LOCAL)}


def load_engines(path: Path) -> dict[str, EngineSpec]:
    """The engines ``path`` declares, and ``local``; a ``ManifestError`` for the first problem."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ManifestError(file=file, message=f"cannot read the engines file: {e}") from e
    documents = load_documents(text, file=file)  # YAML problems: a ManifestError with a line
    if len(documents) != 1 or not isinstance(documents[0].data, dict):
        raise ManifestError(file=file, message="expected one mapping with an `engines` key")
    data = documents[0].data
    unknown = sorted(set(map(str, data)) - {"engines"})
    if unknown:
        raise ManifestError(file=file, path=unknown[0], message="unknown key (only `engines`)")
    declared = data.get("engines")
    if not isinstance(declared, dict) or not declared:
        raise ManifestError(file=file, path="engines", message="a mapping of named engines")
    engines = local_only()
    for name, body in declared.items():
        engines[str(name)] = _engine(str(name), body, file=file, base=path.parent)
    return engines


def _engine(name: str, body: Any, *, file: str, base: Path) -> EngineSpec:
    where = f"engines.{name}"
    problem = engine_name_problem(name)
    if problem:
        raise ManifestError(file=file, path=where, message=problem)
    if not isinstance(body, dict):
        raise ManifestError(file=file, path=where, message="a mapping (host, tls, ssh, kind)")
    values = dict(body)
    if "hosts" in values:  # the model's name for the list, not a key of the file
        raise ManifestError(
            file=file,
            path=f"{where}.hosts",
            message="unknown key (several addresses: a list in host)",
        )
    if isinstance(values.get("host"), list) and values.get("kind") != "swarm":
        raise ManifestError(
            file=file,
            path=f"{where}.host",
            message="a list of addresses is for kind: swarm only (its managers); a Docker engine"
            " has one host",
        )
    for files in ("tls", "ssh"):
        if isinstance(values.get(files), dict):
            values[files] = {k: _path(v, base) for k, v in values[files].items()}
    try:
        spec = EngineSpec.model_validate({**values, "name": name})
    except ValidationError as e:
        error = e.errors(include_url=False, include_context=False, include_input=False)[0]
        # The model keeps the addresses in `hosts`; the file wrote them in `host`.
        loc = ["host" if part == "hosts" else str(part) for part in error["loc"]]
        key = ".".join(loc)
        message = error["msg"].removeprefix("Value error, ")
        raise ManifestError(
            file=file, path=f"{where}.{key}" if key else where, message=message
        ) from None
    named = _files(spec.tls, ("ca", "cert", "key"), "tls") | _files(
        spec.ssh, ("known_hosts", "identity"), "ssh"
    )
    for key, found in named.items():
        if found is not None and not found.is_file():
            raise ManifestError(file=file, path=f"{where}.{key}", message=f"no such file: {found}")
    return spec


def _files(group: Any, keys: tuple[str, ...], prefix: str) -> dict[str, Path | None]:
    """``{"tls.ca": path, ...}``: the files a TLS or SSH group names (none when unset)."""
    return {f"{prefix}.{key}": getattr(group, key) for key in keys} if group else {}


def _path(value: Any, base: Path) -> Any:
    if not isinstance(value, str):
        return value
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path
