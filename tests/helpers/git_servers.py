"""Real git servers for the tests: git daemon, OpenSSH's sshd, smart HTTP, and a hung listener.

Each listens on 127.0.0.1 only, on a port free at start, keeps everything it writes in its own
temporary folder, and is a context manager: on exit (test passed or failed) it kills its own
process group by id and removes its folder. Nothing here reads or touches the host's git or
ssh configuration, its sshd service or its keys.

Missing programs are an error with the command that installs them, never a skip: a test that
needs a server must fail in CI when the server cannot run (``scripts/git-servers.sh``).
"""

from __future__ import annotations

import base64
import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from helpers.processes import stop_group

INSTALL_HINT = "run `bash scripts/git-servers.sh` as root (apt-get install git openssh-server)"
SSHD = Path("/usr/sbin/sshd")
DEFAULT_AUTHOR = "Alice Example <alice@example.com>"

# The tests' own git calls see no host config either, so a developer's ~/.gitconfig
# (signing, hooks, default branch) cannot change what the tests build.
GIT_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
}


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git in ``cwd`` for a test; fail loudly with git's stderr."""
    done = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", *args],
        cwd=cwd,
        env={**GIT_ENV, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {cwd}: {done.stderr.strip()}")
    return done.stdout.strip()


def bare_repo(tmp: Path, name: str = "repo.git") -> Path:
    """An empty bare repository ``tmp/name`` whose default branch is ``main``."""
    path = tmp / name
    git(tmp, "init", "--quiet", "--bare", str(path))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that contain ``text`` (e.g. a test server's port)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (
                (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            )
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(f"{proc.name}: {cmdline.strip()}")
    return found


class Pusher:
    """A work clone of a bare repository that writes files, commits and (force-)pushes."""

    def __init__(self, bare: Path, *, work: Path) -> None:
        self.bare = bare
        self.work = work
        git(work.parent, "clone", "--quiet", str(bare), str(work))
        git(work, "checkout", "--quiet", "-B", "main")

    def write(self, files: dict[str, str | bytes]) -> Pusher:
        for rel, content in files.items():
            path = self.work / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        return self

    def remove(self, *paths: str) -> Pusher:
        git(self.work, "rm", "-r", "--quiet", "--", *paths)
        return self

    def commit(self, subject: str, *, author: str = DEFAULT_AUTHOR, date: str | None = None) -> str:
        """Commit everything in the work tree; return the new commit's sha."""
        name, _, email = author.partition(" <")
        stamp = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else {}
        env = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email.rstrip(">"),
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email.rstrip(">"),
            **stamp,
        }
        git(self.work, "add", "-A")
        git(self.work, "commit", "--quiet", "--allow-empty", "-m", subject, env=env)
        return self.head()

    def head(self) -> str:
        return git(self.work, "rev-parse", "HEAD")

    def push(self, branch: str = "main", *, force: bool = False) -> Pusher:
        git(
            self.work,
            "push",
            "--quiet",
            *(["--force"] if force else []),
            "origin",
            f"HEAD:refs/heads/{branch}",
        )
        return self

    def tag(self, name: str, *, message: str | None = None) -> Pusher:
        """Tag HEAD (annotated when ``message`` is given) and push the tag."""
        extra = ["-a", "-m", message] if message else []
        git(
            self.work,
            "tag",
            *extra,
            name,
            env={"GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@x"},
        )
        git(self.work, "push", "--quiet", "origin", f"refs/tags/{name}")
        return self

    def reset(self, commit: str) -> Pusher:
        """Move the local branch back (or anywhere) to ``commit``; push with ``force=True``."""
        git(self.work, "reset", "--quiet", "--hard", commit)
        return self


class _Process:
    """A server process in its own session and temp folder, removed on exit whatever happened."""

    kind = "server"

    def __init__(self, tmp: Path) -> None:
        self.home = Path(tempfile.mkdtemp(prefix=f"{self.kind}-", dir=tmp))
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log = self.home / "server.log"

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        raise NotImplementedError

    def _spawn(self, argv: list[str], *, env: dict[str, str] | None = None) -> None:
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env or GIT_ENV,
                cwd=self.home,
                start_new_session=True,
            )
        self._wait_for_port()

    def _wait_for_port(self, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited at start: {self.log.read_text()[-2000:]}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError(
            f"{self.kind} did not listen on 127.0.0.1:{self.port}: {self.log.read_text()}"
        )

    def stop(self) -> None:
        if self.proc is not None:
            # Our own session (start_new_session): this reaches the server and its children only.
            stop_group(self.proc)
            self.proc = None
        shutil.rmtree(self.home, ignore_errors=True)


class GitDaemon(_Process):
    """``git daemon`` serving the bare repositories under ``base`` as ``git://127.0.0.1:PORT/<name>``."""

    kind = "git-daemon"

    def __init__(self, base: Path, *, tmp: Path) -> None:
        super().__init__(tmp)
        self.base = base

    def start(self) -> None:
        if shutil.which("git") is None:
            raise RuntimeError(f"git is not installed: {INSTALL_HINT}")
        self._spawn([
            "git", "daemon", "--reuseaddr", "--listen=127.0.0.1", f"--port={self.port}",
            f"--base-path={self.base}", "--export-all", "--informative-errors", str(self.base),
        ])  # fmt: skip

    def url(self, name: str) -> str:
        return f"git://127.0.0.1:{self.port}/{name}"


def make_key(path: Path) -> Path:
    """A new passphrase-less ed25519 key pair at ``path`` (+ ``.pub``); returns ``path``."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "stackctl-test", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path


class SshServer(_Process):
    """OpenSSH's sshd with its own config, host key and authorized client key, as the current
    user; the client side gets ``client_key`` and a ``known_hosts`` file naming this server."""

    kind = "sshd"

    def start(self) -> None:
        if not SSHD.is_file() or shutil.which("ssh-keygen") is None:
            raise RuntimeError(f"{SSHD} or ssh-keygen is missing: {INSTALL_HINT}")
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
        self.user = getpass.getuser()
        host_key = make_key(self.home / "host_ed25519")
        self.client_key = make_key(self.home / "client_ed25519")
        (self.home / "authorized_keys").write_bytes(Path(f"{self.client_key}.pub").read_bytes())
        key_type, key = Path(f"{host_key}.pub").read_text().split()[:2]
        self.known_hosts_line = f"[127.0.0.1]:{self.port} {key_type} {key}"
        self.known_hosts = self.home / "known_hosts"
        self.known_hosts.write_text(self.known_hosts_line + "\n")
        config = self.home / "sshd_config"
        config.write_text(
            f"Port {self.port}\n"
            "ListenAddress 127.0.0.1\n"
            f"HostKey {host_key}\n"
            f"PidFile {self.home / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {self.home / 'authorized_keys'}\n"
            f"AllowUsers {self.user}\n"
            "PermitRootLogin prohibit-password\n"
            "PubkeyAuthentication yes\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "UsePAM no\n"
            # The temp folder's owner and modes are the test's, not a real home's.
            "StrictModes no\n"
            "LogLevel VERBOSE\n"
        )
        self._spawn([str(SSHD), "-D", "-e", "-f", str(config)], env=dict(os.environ))

    def url(self, repo: Path) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{repo}"


class HungServer:
    """A TCP listener on 127.0.0.1 that accepts connections and never says a word."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> HungServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        # close() alone does not wake a thread blocked in accept(); shutdown() does.
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        for conn in self._held:
            conn.close()
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self._sock.accept()
                self._held.append(conn)


class HttpGitServer:
    """Smart HTTP: ``git http-backend`` behind a tiny http.server on 127.0.0.1 that answers 401
    unless the request carries ``Authorization: Basic base64(user:token)``.

    ``authorizations`` records every Authorization header received (to check what was sent).
    It runs in a thread of the test process; http-backend runs once per request and exits.
    """

    def __init__(self, base: Path, *, token: str, user: str = "x-access-token") -> None:
        self.base = base
        self.expected = "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()
        self.authorizations: list[str | None] = []
        self.paths: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> HttpGitServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def _serve(self) -> None:
                auth = self.headers.get("Authorization")
                server.authorizations.append(auth)
                server.paths.append(self.path)
                if auth != server.expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._backend()

            def _backend(self) -> None:
                path, _, query = self.path.partition("?")
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                env = {
                    **GIT_ENV,
                    "GIT_PROJECT_ROOT": str(server.base),
                    "GIT_HTTP_EXPORT_ALL": "1",
                    "REQUEST_METHOD": self.command,
                    "PATH_INFO": path,
                    "QUERY_STRING": query,
                    "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                    "CONTENT_LENGTH": str(len(body)),
                    "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                    "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                    "REMOTE_ADDR": "127.0.0.1",
                }
                done = subprocess.run(
                    ["git", "http-backend"], input=body, env=env, capture_output=True, timeout=60
                )
                head, _, payload = done.stdout.partition(b"\r\n\r\n")
                status, headers = 200, []
                for line in head.decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.lower() == "status":
                        status = int(value.split()[0])
                    elif name:
                        headers.append((name, value.strip()))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler
