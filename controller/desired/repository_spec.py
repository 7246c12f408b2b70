"""What a repository source is (``RepositorySpec``) and how its URL is shown without secrets.

A spec is a plain value: validated once here, so the fetcher never has to wonder whether a URL
could smuggle an option (``-oProxyCommand=...``) or a remote helper (``ext::sh -c ...``) to
git, or whether ``path`` could leave the checkout. ``redact_url`` and ``redact`` are the only
way a URL or git's own output reaches a message, a log line or the database.

This module reads no file and runs nothing: credentials are named by path here and read by the
fetcher at each use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from controller.desired.delivery import CommitStatus

Transport = Literal["http", "ssh", "git", "file", "local"]

_SCHEMES: dict[str, Transport] = {
    "https": "http",
    "http": "http",
    "ssh": "ssh",
    "git+ssh": "ssh",
    "ssh+git": "ssh",
    "git": "git",
    "file": "file",
}
_SCHEME_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
# `<transport>::<address>` asks git to run a remote helper, e.g. `ext::sh -c ...`.
_REMOTE_HELPER = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")
# A URL with userinfo anywhere in a text (git's stderr): scheme, userinfo, then `@`.
_USERINFO_IN_TEXT = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<userinfo>[^/\s@?#]+)@")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The characters git-check-ref-format refuses, plus whitespace (git would split on it).
_BAD_REF = re.compile(r"[\s~^:?*\[\\]|\.\.|@\{|^-|^/|/$|//|\.lock$|\.$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_MASK = "***"


def transport_of(url: str) -> Transport:
    """How git will reach ``url``: by its scheme, scp-like ``user@host:path`` (ssh), or a path.

    Follows git's own rule (``url_is_local_not_ssh``): a colon before any slash is ssh.
    """
    if match := _SCHEME_URL.match(url):
        scheme = match["scheme"].lower()
        if scheme not in _SCHEMES:
            raise ValueError(f"unsupported URL scheme {scheme!r} (use https, ssh, git or file)")
        return _SCHEMES[scheme]
    colon, slash = url.find(":"), url.find("/")
    if colon != -1 and (slash == -1 or colon < slash):
        return "ssh"
    return "local"


class RepositorySpec(BaseModel):
    """One repository to follow: where it is, which ref, which folder, how to authenticate.

    ``ref`` is a branch, a tag or a (possibly abbreviated) commit; a branch wins over a tag of
    the same name, as in git. ``path`` is the folder inside the repository that holds the
    stack sources. The ``*_file`` fields name files read at each fetch, so a rotated
    credential is picked up without a restart and is never kept in memory or on disk by us.
    """

    # A rejected URL may hold a password: errors name the problem, never echo the input.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    name: str
    url: str
    ref: str = "main"
    path: str = "."
    interval_s: float = Field(default=60, gt=0)
    token_file: Path | None = None
    ssh_key_file: Path | None = None
    known_hosts_file: Path | None = None
    webhook_secret_file: Path | None = None
    commit_status: CommitStatus | None = None  # where its commits get a status (delivery)

    @field_validator("name")
    @classmethod
    def _name_is_a_folder_name(cls, name: str) -> str:
        # It names the source's folder under the state dir: no separator, no `..`.
        if not _NAME.match(name):
            raise ValueError(
                f"repository name {name!r} must be letters, digits, '.', '_' or '-' "
                "and start with a letter or digit"
            )
        return name

    @field_validator("url")
    @classmethod
    def _url_is_one_git_understands_safely(cls, url: str) -> str:
        shown = redact_url(url)
        if not url or url != url.strip() or _CONTROL.search(url):
            raise ValueError(f"repository URL {shown!r} is empty or has spaces around it")
        if url.startswith("-"):
            raise ValueError(f"repository URL {shown!r} must not start with '-'")
        if _REMOTE_HELPER.match(url):
            raise ValueError(f"repository URL {shown!r} names a git remote helper; not allowed")
        kind = transport_of(url)
        if kind in ("http", "ssh", "git") and "://" in url:
            host = urlsplit(url).hostname or ""
            if not host or host.startswith("-"):
                raise ValueError(f"repository URL {shown!r} has no valid host")
        if kind == "ssh" and "://" not in url:
            host = url.split(":", 1)[0].rpartition("@")[2]
            if not host or host.startswith("-"):
                raise ValueError(f"repository URL {shown!r} has no valid host")
        return url

    @field_validator("ref")
    @classmethod
    def _ref_is_a_ref_name(cls, ref: str) -> str:
        if not ref or _CONTROL.search(ref) or _BAD_REF.search(ref):
            raise ValueError(f"ref {ref!r} is not a valid branch, tag or commit name")
        return ref

    @field_validator("path")
    @classmethod
    def _path_stays_inside_the_repository(cls, path: str) -> str:
        if _CONTROL.search(path):
            raise ValueError(f"path {path!r} has control characters")
        pure = PurePosixPath(path or ".")
        if pure.is_absolute():
            raise ValueError(
                f"path {path!r} must be relative to the repository's top folder, not absolute"
            )
        if ".." in pure.parts:
            raise ValueError(f"path {path!r} must stay inside the repository (no '..')")
        return str(pure)

    @model_validator(mode="after")
    def _credentials_fit_the_transport(self) -> RepositorySpec:
        kind = transport_of(self.url)
        if self.token_file is not None and kind != "http":
            raise ValueError("token_file is only used with https:// (or http://) URLs")
        if (self.ssh_key_file or self.known_hosts_file) and kind != "ssh":
            raise ValueError("ssh_key_file and known_hosts_file are only used with ssh URLs")
        return self


def redact_url(url: str) -> str:
    """``url`` with its password or token replaced by ``***``; the user name is kept.

    A lone userinfo on http(s) (``https://TOKEN@host/x``) is a token, since git would have to
    prompt for a password otherwise; on ssh it is the login (``git@host:path``) and is kept.
    """
    match = _SCHEME_URL.match(url)
    if not match:
        return url
    rest = url[match.end() :]
    authority_end = min((i for i in (rest.find(c) for c in "/?#") if i != -1), default=len(rest))
    userinfo, at, host = rest[:authority_end].rpartition("@")
    if not at:
        return url
    shown = _redacted_userinfo(match["scheme"], userinfo)
    return f"{match.group(0)}{shown}@{host}{rest[authority_end:]}"


def redact(text: str, spec: RepositorySpec, *, secrets: Iterable[str] = ()) -> str:
    """``text`` (git's stderr, an exception) with every credential it may hold masked.

    Masks the spec's raw URL, the userinfo of any URL in the text, the spec URL's password or
    token wherever it appears alone (also percent-decoded), and each of ``secrets`` (such as
    the content of a token file).
    """
    text = text.replace(spec.url, redact_url(spec.url))
    text = _USERINFO_IN_TEXT.sub(
        lambda m: f"{m['scheme']}://{_redacted_userinfo(m['scheme'], m['userinfo'])}@", text
    )
    for secret in sorted({*_secrets_in_url(spec.url), *secrets}, key=len, reverse=True):
        if secret:
            text = text.replace(secret, _MASK)
    return text


def url_credentials(url: str) -> tuple[str | None, str | None]:
    """The (user, password) written in an http(s) URL's userinfo, percent-decoded."""
    if transport_of(url) != "http":
        return None, None
    parts = urlsplit(url)
    user = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return user, password


def url_without_userinfo(url: str) -> str:
    """``url`` with any userinfo removed (for http(s)) or its password removed (other schemes),
    so that git's command line, visible to every user in ``ps``, holds no secret."""
    match = _SCHEME_URL.match(url)
    if not match:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    netloc = host if transport_of(url) == "http" else f"{user}@{host}"
    return parts._replace(netloc=netloc).geturl()


def _redacted_userinfo(scheme: str, userinfo: str) -> str:
    user, colon, _password = userinfo.partition(":")
    if colon:
        return f"{user}:{_MASK}"
    if _SCHEMES.get(scheme.lower()) == "http":
        return _MASK
    return userinfo


def _secrets_in_url(url: str) -> list[str]:
    match = _SCHEME_URL.match(url)
    if not match:
        return []
    netloc = urlsplit(url).netloc
    userinfo, at, _host = netloc.rpartition("@")
    if not at:
        return []
    user, colon, password = userinfo.partition(":")
    secret = (
        password if colon else (user if _SCHEMES.get(match["scheme"].lower()) == "http" else "")
    )
    return [secret, unquote(secret)] if secret else []
