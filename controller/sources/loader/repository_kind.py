"""The ``Repository`` manifest kind: a git repository whose folder at ``spec.path`` is a source.

```yaml
apiVersion: stackctl/v1
kind: Repository
metadata: {name: infra}
spec:
  url: https://git.example.com/ops/infra.git
  ref: main
  path: stacks/
  interval: 60s
  auth: {tokenFile: ..., sshKeyFile: ..., knownHostsFile: ...}
  webhook: {secretFile: ...}
  commitStatus: {provider: github, tokenFile: ..., apiUrl: ..., project: owner/name}
```

Only the watched directory declares repositories (a repository declaring another is refused by
the caller). Credential files are named, never inlined: a relative path is taken from the
manifest's folder, and the files are read by the fetcher at each use, never here. This module
reads no file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from controller.desired.delivery import CommitStatus
from controller.desired.reach import Reach
from controller.desired.repository_spec import RepositorySpec
from controller.sources.loader.file_reach import file_problem
from controller.sources.loader.issues import Issues
from controller.sources.loader.root import Root
from controller.sources.loader.units import parse_duration
from controller.sources.loader.yamlload import Document


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class _Metadata(_Strict):
    name: str
    labels: dict[str, str] = Field(default_factory=dict)


class _Auth(_Strict):
    tokenFile: str | None = None
    sshKeyFile: str | None = None
    knownHostsFile: str | None = None


class _Webhook(_Strict):
    secretFile: str | None = None


class _CommitStatus(_Strict):
    provider: Literal["github", "gitea", "forgejo", "gitlab"]
    tokenFile: str
    apiUrl: str | None = None
    project: str | None = None


class _Spec(_Strict):
    url: str
    ref: str = "main"
    path: str = "."
    interval: str | int = "60s"
    auth: _Auth = Field(default_factory=_Auth)
    webhook: _Webhook = Field(default_factory=_Webhook)
    commitStatus: _CommitStatus | None = None


class _RepositoryManifest(_Strict):
    apiVersion: Literal["stackctl/v1"]
    kind: Literal["Repository"]
    metadata: _Metadata
    spec: _Spec


def load_repository(
    doc: Document, *, file_path: Path, issues: Issues, root: Root, reach: Reach
) -> RepositorySpec | None:
    """The repository one ``kind: Repository`` document declares, or ``None`` with its errors
    added to ``issues`` (file, line and key of each). Its files must be inside ``root`` or
    ``--secrets-dir`` and its ``commitStatus.apiUrl`` allowed by the operator (``reach``)."""
    try:
        manifest = _RepositoryManifest.model_validate(doc.data)
    except ValidationError as e:
        issues.validation_errors(e)
        return None
    spec = manifest.spec
    try:
        interval_ns = parse_duration(spec.interval)
    except ValueError as e:
        issues.error(("spec", "interval"), str(e))
        return None
    if interval_ns < 1_000_000_000:
        issues.error(("spec", "interval"), "must be at least 1s")
        return None
    base = file_path.parent
    if _refused(spec, base=base, root=root, reach=reach, issues=issues):
        return None
    try:
        return RepositorySpec(
            name=manifest.metadata.name,
            url=_url(spec.url, base=base),
            ref=spec.ref,
            path=spec.path,
            interval_s=interval_ns / 1e9,
            token_file=_file(spec.auth.tokenFile, base=base),
            ssh_key_file=_file(spec.auth.sshKeyFile, base=base),
            known_hosts_file=_file(spec.auth.knownHostsFile, base=base),
            webhook_secret_file=_file(spec.webhook.secretFile, base=base),
            commit_status=_commit_status(spec.commitStatus, base=base),
        )
    except ValidationError as e:
        for err in e.errors(include_url=False, include_context=False, include_input=False):
            field = str(err["loc"][0]) if err["loc"] else ""
            message = err["msg"].removeprefix("Value error, ")
            for name, key in _KEYS.items():  # the spec's field names -> the manifest's keys
                message = message.replace(name, ".".join(key[1:]))
            if not field and "tokenFile" in message:
                field = "token_file"
            elif not field and "sshKeyFile" in message:
                field = "ssh_key_file"
            issues.error(_KEYS.get(field, ("spec", field) if field else ("spec",)), message)
        return None


def _refused(spec: _Spec, *, base: Path, root: Root, reach: Reach, issues: Issues) -> bool:
    """Report each file outside the root and ``--secrets-dir`` and a forge API address the
    operator does not allow; ``True`` when there was one."""
    status = spec.commitStatus
    files = {
        ("spec", "auth", "tokenFile"): spec.auth.tokenFile,
        ("spec", "auth", "sshKeyFile"): spec.auth.sshKeyFile,
        ("spec", "auth", "knownHostsFile"): spec.auth.knownHostsFile,
        ("spec", "webhook", "secretFile"): spec.webhook.secretFile,
        ("spec", "commitStatus", "tokenFile"): status.tokenFile if status else None,
    }
    before = len(issues.errors)
    for key, value in files.items():
        path = _file(value, base=base)
        if path is not None and (problem := file_problem(path, root=root, reach=reach)):
            issues.error(key, problem)
    api = status.apiUrl if status is not None else None
    if api is not None and (problem := reach.destination_problem(api)):
        issues.error(("spec", "commitStatus", "apiUrl"), problem)
    return len(issues.errors) > before


def _commit_status(value: _CommitStatus | None, *, base: Path) -> CommitStatus | None:
    if value is None:
        return None
    token = _file(value.tokenFile, base=base)
    assert token is not None
    return CommitStatus(
        provider=value.provider, token_file=token, api_url=value.apiUrl, project=value.project
    )


def _file(value: str | None, *, base: Path) -> Path | None:
    if value is None:
        return None
    path = Path(value)  # `~` is not expanded: the loader never reads the environment
    return path if path.is_absolute() else base / path


def _url(url: str, *, base: Path) -> str:
    """A relative local path (``../infra.git``) is taken from the manifest's folder, like every
    other path in a manifest; URLs and absolute paths are kept as written."""
    if "://" in url or url.startswith("/") or not url.startswith((".", "..")):
        return url
    return str((base / url).absolute())


# RepositorySpec's field names -> the manifest's keys, so errors name what the file says.
_KEYS: dict[str, tuple[str, ...]] = {
    "name": ("metadata", "name"),
    "interval_s": ("spec", "interval"),
    "token_file": ("spec", "auth", "tokenFile"),
    "ssh_key_file": ("spec", "auth", "sshKeyFile"),
    "known_hosts_file": ("spec", "auth", "knownHostsFile"),
    "webhook_secret_file": ("spec", "webhook", "secretFile"),
    "commit_status": ("spec", "commitStatus"),
}
