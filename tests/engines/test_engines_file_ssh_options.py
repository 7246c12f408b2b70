"""An ``ssh://`` engine in the ``--engines`` file: ``ssh: {known_hosts, identity}`` are paths
relative to the file, checked to exist when the file is read; a bad one, ``ssh`` on another
kind of host, or an ``ssh://`` host without a host name is a ``ManifestError`` naming the
file, the key and the problem. Without ``ssh`` the runtime uses ``~/.ssh/known_hosts``."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.backends.shared.ssh_transport import known_hosts_of
from controller.models.errors import ManifestError
from controller.sources.loader.engines_file import load_engines


def write(folder: Path, text: str) -> Path:
    for name in ("known_hosts", "id_ed25519"):
        (folder / name).write_text("x")
    path = folder / "engines.yaml"
    path.write_text(text)
    return path


def test_ssh_files_are_relative_to_the_engines_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "engines:\n"
        "  viassh:\n"
        "    host: 'ssh://deploy@10.0.0.6:2222'\n"
        "    ssh: {known_hosts: known_hosts, identity: id_ed25519}\n"
        "  plain: {host: 'ssh://deploy@10.0.0.7'}\n",
    )
    engines = load_engines(path)
    viassh = engines["viassh"]
    assert viassh.ssh is not None
    assert viassh.ssh.known_hosts == tmp_path / "known_hosts"
    assert viassh.ssh.identity == tmp_path / "id_ed25519"
    assert viassh.remote and viassh.describe() == "viassh (ssh://deploy@10.0.0.6:2222)"
    assert known_hosts_of(viassh) == tmp_path / "known_hosts"
    assert engines["plain"].ssh is None
    assert known_hosts_of(engines["plain"]) == Path.home() / ".ssh" / "known_hosts"


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (
            "engines:\n  e: {host: 'ssh://u@h', ssh: {known_hosts: nowhere}}\n",
            "engines.e.ssh.known_hosts",
            "no such file",
        ),
        (
            "engines:\n  e: {host: 'ssh://u@h', ssh: {identity: nokey}}\n",
            "engines.e.ssh.identity",
            "no such file",
        ),
        (
            "engines:\n  e: {host: 'ssh://u@h', ssh: {known_host: known_hosts}}\n",
            "engines.e.ssh.known_host",
            "Extra inputs",
        ),
        (
            "engines:\n  e: {host: 'tcp://h:2376', ssh: {known_hosts: known_hosts}}\n",
            "engines.e",
            "ssh is for ssh:// hosts only",
        ),
        ("engines:\n  e: {host: 'ssh://'}\n", "engines.e.host", "ssh://user@host"),
        ("engines:\n  e: {host: 'ssh://u@h/path'}\n", "engines.e.host", "ssh://user@host"),
        ("engines:\n  e: {host: 'ssh://u@h:port'}\n", "engines.e.host", "port"),
    ],
)
def test_a_bad_ssh_engine_names_the_file_the_key_and_the_problem(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ManifestError) as caught:
        load_engines(path)
    assert caught.value.file == str(path)
    assert caught.value.path == key
    assert problem in caught.value.message, caught.value.message
