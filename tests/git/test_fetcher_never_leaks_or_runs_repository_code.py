"""What the fetcher writes is exactly what was committed, nothing the repository configures
runs, and a credential never shows up in an error, on a command line or in a URL sent.

A repository is someone else's input: its hooks, its ``.git/config`` (fsmonitor, filters) and
its ``.gitattributes`` (eol, ident, filters) would otherwise run programs as the controller's
user or change the bytes a reviewer approved.
"""

from __future__ import annotations

import base64
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers.git_servers import (
    HttpGitServer,
    HungServer,
    Pusher,
    SshServer,
    git,
    make_key,
    processes_mentioning,
)

from controller.desired.repository_spec import RepositorySpec, redact, redact_url
from controller.sources.git.failures import FetchAuthError, FetchError, FetchTimeout
from controller.sources.git.fetcher import Fetcher

HOOKS = [
    "post-checkout", "post-merge", "post-rewrite", "pre-auto-gc", "reference-transaction",
    "post-index-change", "fsmonitor-watchman", "pre-receive", "post-update", "update",
]  # fmt: skip


def test_only_committed_content_is_read_from_a_dirty_source_work_tree(
    pusher: Pusher, make_fetcher: Callable[..., Fetcher]
) -> None:
    committed = (pusher.work / "stacks/web/compose.yaml").read_text()
    pusher.write({"stacks/web/compose.yaml": "services: {edited: {image: x}}\n"})
    pusher.write({"stacks/web/untracked.yaml": "not committed\n"})
    pusher.write({"stacks/staged.yaml": "staged only\n"})
    git(pusher.work, "add", "stacks/staged.yaml")

    result = make_fetcher(url=str(pusher.work), path="stacks").fetch()  # the clone, as a path
    assert result.commit == pusher.head()
    assert (result.root / "web" / "compose.yaml").read_text() == committed
    assert sorted(p.name for p in result.root.rglob("*")) == ["compose.yaml", "web"]


def test_hooks_fsmonitor_filters_and_attributes_neither_run_nor_alter_content(
    pusher: Pusher, make_fetcher: Callable[..., Fetcher], tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    files: dict[str, str | bytes] = {
        ".gitattributes": "* text eol=crlf ident filter=evil export-subst\n"
        "*.utf16 working-tree-encoding=UTF-16LE\n"
        "skip.txt export-ignore\n",
        "stacks/web/compose.yaml": "services:\n  web:\n    image: busybox:1\n",
        "stacks/web/ident.txt": "id: $Id$\nsubst: $Format:%H$\nline two\n",
        "stacks/web/notes.utf16": "h\u00e9llo\n".encode("utf-16-le"),  # committed as UTF-8
        "stacks/skip.txt": "kept: export-ignore is for git archive only\n",
    }
    pusher.write(files).commit("attributes")  # committed before any evil config exists
    # Planted afterwards, as someone with write access to the source's .git would.
    script = tmp_path / "mark.sh"
    script.write_text(f'#!/bin/sh\ntouch "{marks}/$(basename "$0")-$$"\ncat\n')
    script.chmod(0o755)
    for key, value in {
        "core.fsmonitor": str(script),
        "filter.evil.smudge": str(script),
        "filter.evil.clean": str(script),
        "filter.evil.process": str(script),
        "uploadpack.packObjectsHook": str(script),
    }.items():
        git(pusher.work, "config", key, value)
    for hook in HOOKS:
        target = pusher.work / ".git" / "hooks" / hook
        target.write_text(f'#!/bin/sh\ntouch "{marks}/{hook}"\n')
        target.chmod(0o755)

    fetcher = make_fetcher(url=str(pusher.work))
    fetcher.fetch()
    assert sorted(marks.iterdir()) == [], "nothing the repository configured may run"

    # Committing in the source runs its own hooks and filters (that is git working for the
    # source's owner); only what the fetch runs counts.
    pusher.write({"stacks/web/compose.yaml": "services: {b: {image: y}}\n"}).commit("again")
    for mark in marks.iterdir():
        mark.unlink()
    result = fetcher.fetch()
    assert result.changed
    assert sorted(marks.iterdir()) == [], "nothing the repository configured may run"
    for rel in files:
        blob = subprocess.run(
            ["git", "-C", str(pusher.work), "cat-file", "blob", f"{result.commit}:{rel}"],
            capture_output=True,
            check=True,
        ).stdout
        assert (result.root / rel).read_bytes() == blob, rel


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("https://user:s3cr3t-pw@127.0.0.1:1/shop.git", "s3cr3t-pw"),
        ("https://ghp_t0ken1234@127.0.0.1:1/shop.git", "ghp_t0ken1234"),
        ("http://user:p%40ss-w0rd@127.0.0.1:1/shop.git", "p@ss-w0rd"),
    ],
)
def test_a_credential_in_the_url_never_reaches_an_error_message(
    url: str, secret: str, make_fetcher: Callable[..., Fetcher]
) -> None:
    with pytest.raises(FetchError) as caught:
        make_fetcher(url=url, timeout_s=10).fetch()
    assert secret not in str(caught.value)
    assert secret.replace("@", "%40") not in str(caught.value)
    assert "127.0.0.1:1" in str(caught.value), "the message still says which repository"


def test_a_credential_is_never_on_a_command_line(
    make_fetcher: Callable[..., Fetcher], tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("file-t0ken-abcdef\n")
    with HungServer() as hung:
        seen: list[str] = []
        for name, fields in {
            "in-url": {"url": f"http://user:url-pw-abcdef@127.0.0.1:{hung.port}/shop.git"},
            "in-file": {"url": f"http://127.0.0.1:{hung.port}/x.git", "token_file": token_file},
        }.items():
            fetcher = make_fetcher(name=name, timeout_s=1.5, **fields)
            with watching(f"127.0.0.1:{hung.port}", seen), pytest.raises(FetchTimeout):
                fetcher.fetch()
    assert seen, "git was observed while it waited for the server"
    for cmdline in seen:
        assert "url-pw-abcdef" not in cmdline and "file-t0ken-abcdef" not in cmdline, cmdline


@pytest.mark.parametrize("user", [None, "oauth2"])
def test_a_token_reaches_the_server_only_as_an_authorization_header(
    user: str | None, origin: Path, pusher: Pusher, tmp_path: Path, make_fetcher
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("glpat-T0KEN\n")
    with HttpGitServer(origin.parent, token="glpat-T0KEN", user=user or "x-access-token") as http:
        url = http.url(origin.name).replace("http://", f"http://{user}@" if user else "http://")
        result = make_fetcher(url=url, token_file=token_file).fetch()
    assert result.commit == pusher.head()
    assert all("T0KEN" not in path for path in http.paths)
    assert http.authorizations and set(http.authorizations) == {http.expected}


def test_a_token_file_is_read_at_each_fetch(
    origin: Path, pusher: Pusher, tmp_path: Path, make_fetcher: Callable[..., Fetcher]
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("old-token\n")
    with HttpGitServer(origin.parent, token="new-token") as http:
        fetcher = make_fetcher(url=http.url(origin.name), token_file=token_file)
        with pytest.raises(FetchAuthError) as caught:
            fetcher.fetch()
        assert "old-token" not in str(caught.value)
        assert base64.b64encode(b"x-access-token:old-token").decode() not in str(caught.value)
        token_file.write_text("new-token\n")  # rotated: no restart needed
        assert fetcher.fetch().commit == pusher.head()
        token_file.unlink()
        with pytest.raises(FetchAuthError, match="token file"):
            fetcher.fetch()


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    with SshServer(tmp_path_factory.mktemp("sshd")) as server:
        yield server


def test_an_unknown_ssh_host_key_is_an_auth_error_not_a_prompt(
    sshd: SshServer, origin: Path, pusher: Pusher, tmp_path: Path, make_fetcher
) -> None:
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    other = make_key(tmp_path / "impostor")
    key_type, key = Path(f"{other}.pub").read_text().split()[:2]
    changed = tmp_path / "changed_known_hosts"
    changed.write_text(f"[127.0.0.1]:{sshd.port} {key_type} {key}\n")
    for known_hosts in (empty, changed):
        fetcher = make_fetcher(
            url=sshd.url(origin), ssh_key_file=sshd.client_key, known_hosts_file=known_hosts
        )
        with pytest.raises(FetchAuthError, match=r"[Hh]ost key"):
            fetcher.fetch()
        assert fetcher.current_commit() is None
    assert empty.read_text() == "", "no trust on first use: known_hosts is never written"


def test_a_wrong_ssh_key_is_an_auth_error(
    sshd: SshServer, origin: Path, pusher: Pusher, tmp_path: Path, make_fetcher
) -> None:
    fetcher = make_fetcher(
        url=sshd.url(origin),
        ssh_key_file=make_key(tmp_path / "stranger"),
        known_hosts_file=sshd.known_hosts,
    )
    with pytest.raises(FetchAuthError, match="Permission denied"):
        fetcher.fetch()


def test_the_right_ssh_key_and_host_key_fetch(
    sshd: SshServer, origin: Path, pusher: Pusher, make_fetcher: Callable[..., Fetcher]
) -> None:
    fetcher = make_fetcher(
        url=sshd.url(origin), ssh_key_file=sshd.client_key, known_hosts_file=sshd.known_hosts
    )
    assert fetcher.fetch().commit == pusher.head()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:tok@host/x", "https://user:***@host/x"),
        ("https://tok@host/x", "https://***@host/x"),
        ("http://a:b:c@host:8080/x?y=1", "http://a:***@host:8080/x?y=1"),
        ("https://host/x", "https://host/x"),
        ("git@host:owner/x.git", "git@host:owner/x.git"),
        ("ssh://git@host:2222/x.git", "ssh://git@host:2222/x.git"),
        ("ssh://git:pw@host/x.git", "ssh://git:***@host/x.git"),
        ("git://host/x.git", "git://host/x.git"),
        ("file:///srv/x.git", "file:///srv/x.git"),
        ("/srv/x.git", "/srv/x.git"),
    ],
)
def test_redact_url_hides_the_password_or_token_only(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_masks_every_credential_in_a_text() -> None:
    spec = RepositorySpec(name="x", url="https://bob:hunter2%21@host/x.git")
    text = (
        "fatal: unable to access 'https://bob:hunter2%21@host/x.git/': 401\n"
        "see also https://eve:other@mirror/x and hunter2! alone, and tok-123\n"
    )
    shown = redact(text, spec, secrets=["tok-123"])
    assert "hunter2" not in shown and "other" not in shown and "tok-123" not in shown
    assert "https://bob:***@host/x.git/" in shown and "https://eve:***@mirror/x" in shown


class watching:
    """Collects, every 50 ms while open, the command lines of processes mentioning ``text``."""

    def __init__(self, text: str, seen: list[str]) -> None:
        self.text, self.seen = text, seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> watching:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.seen.extend(processes_mentioning(self.text))
            time.sleep(0.05)
