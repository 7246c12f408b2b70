"""A second, throwaway Docker engine for the tests, reached over TLS on 127.0.0.1.

``ExtraDockerd`` is what the ``tls_engine`` session fixture yields: a ``dockerd`` of its own
(its own data root, exec root, pid file, managed containerd and bridge), listening on
``tcp://127.0.0.1:PORT`` with ``--tlsverify`` (a CA, a server and a client certificate made
with ``openssl`` for the session) and on a unix socket in its folder for the tests' own
inspection.  The test images of the main engine are copied into it (``docker save | docker
load``), so a test can run ``stackctl-test/busybox:1`` there with ``pull_policy: never``.

It must never change the main engine (``/var/run/docker.sock``) or the host's ``docker0``;
what this found out and therefore does:

* ``--bridge <its own bridge>``, created with ``ip`` on a free /24 of ``172.31.240.0/20``
  (``172.31.250.0/24`` first; outside the main engine's pool ``10.213.0.0/16``).  Never
  ``--bridge=none``: dockerd then deletes the host's ``docker0``.  Never
  ``--default-address-pool``: a data root restarted with it deletes its default bridge
  network's interface.
* ``--config-file`` on an empty ``{}`` (``/etc/docker/daemon.json`` is the main engine's),
  ``--iptables=false --ip6tables=false --ip-forward=false`` (no host firewall or sysctl
  changes), its own containerd namespaces (were a system containerd ever found at
  ``/run/containerd/containerd.sock``, dockerd would share it).
* Every path under ``/tmp/sd-XXXXXXXX`` (short: containerd's and the shims' sockets live
  under the exec root and a unix socket path has at most 107 bytes).
* dockerd runs in its own session (its process group = dockerd; its containerd has a session
  of its own and dies with it, PR_SET_PDEATHSIG), and gets SIGTERM if pytest dies.

``close()`` puts everything back whatever happened (a test killed dockerd, it never started,
containers still run): a dead dockerd is started again so that it removes its containers
itself, everything is removed, dockerd is stopped by pid (SIGTERM, 20 s, then SIGKILL of its
process group); then whatever still runs from this engine (its containerd and shims: their
command line names its folder; its containers' processes: their cgroups carry the ids of the
data root) is killed, the mounts under its folder are unmounted, its bridge is deleted and the
folder removed.  A session that died before doing so (SIGKILL) is cleaned up by the next one
(``sweep_stale()``: the folder's ``state.json`` names the owner pid and the bridge).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

TMP = Path("/tmp")
ROOT_PREFIX = "sd-"
BRIDGE_PREFIX = "stkbr"
#: other bridges an engine may own (``extra_bridges``: a Swarm's docker_gwbridge, helpers/swarm.py)
EXTRA_BRIDGE_PREFIX = "stkgw"
#: /24 networks tried in order for the bridge: the first one no route or address overlaps.
#: Never in the main engine's pool (10.213.0.0/16): it would allocate one of them later.
SUBNET_CANDIDATES = tuple(f"172.31.{n}.0/24" for n in (*range(250, 255), *range(240, 250)))
LOCK_FILE = TMP / "stackctl-extra-dockerd.lock"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
TOOLS = ("dockerd", "docker", "openssl", "ip")
#: API version of the request that asks the engine for its own (docker-py's minimum)
MIN_API_VERSION = "1.24"


class ExtraDockerdUnavailable(RuntimeError):
    """The extra engine cannot run here (a tool missing, not root, dockerd does not start)."""


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(args: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command; ExtraDockerdUnavailable with its output when it fails."""
    proc = subprocess.run(
        list(args), capture_output=True, text=True, timeout=kwargs.pop("timeout", 60), **kwargs
    )
    if proc.returncode != 0:
        raise ExtraDockerdUnavailable(
            f"`{' '.join(args)}` exited {proc.returncode}: {(proc.stderr or proc.stdout).strip()}"
        )
    return proc


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie (pid 1 here reaps late)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _set_pdeathsig() -> None:  # pragma: no cover - runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _unescape_mount(path: str) -> str:
    """/proc/mounts writes space, tab, newline and backslash as octal escapes."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        path = path.replace(code, char)
    return path


def mounts_under(root: Path) -> list[str]:
    """Mount points at or under ``root``, deepest first."""
    prefix = str(root).rstrip("/")
    found = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            fields = line.split()
            if len(fields) > 1:
                point = _unescape_mount(fields[1])
                if point == prefix or point.startswith(prefix + "/"):
                    found.append(point)
    return sorted(set(found), key=lambda p: p.count("/"), reverse=True)


def bridge_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


class ExtraDockerd:
    """A dockerd on ``tcp://127.0.0.1:PORT`` (TLS, client certificates) and a unix socket."""

    def __init__(
        self,
        images: Iterable[str] = (),
        *,
        root: Path | None = None,
        bridge: str | None = None,
    ) -> None:
        self.images = tuple(images)
        self.root = root or Path(tempfile.mkdtemp(prefix=ROOT_PREFIX, dir=TMP))
        self.bridge = bridge or f"{BRIDGE_PREFIX}{secrets.token_hex(2)}"
        self.subnet: str | None = None
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None
        #: containerd namespace of its containers (the main engine's is "moby")
        self.namespace = f"stackctl-{secrets.token_hex(4)}"
        #: docker0's interface index before this engine started (None: no docker0 then)
        self.docker0_ifindex_before = self._docker0_ifindex()
        self._bridge_created = False
        #: bridges its dockerd creates (a subclass's): deleted at close and by sweep_stale()
        self.extra_bridges: list[str] = []

    # -- where ------------------------------------------------------------------------------
    @property
    def host(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    @property
    def socket(self) -> str:
        return f"unix://{self.root / 'docker.sock'}"

    @property
    def certs(self) -> Path:
        return self.root / "certs"

    @property
    def ca(self) -> Path:
        return self.certs / "ca.pem"

    @property
    def cert(self) -> Path:
        return self.certs / "cert.pem"

    @property
    def key(self) -> Path:
        return self.certs / "key.pem"

    @property
    def data_root(self) -> Path:
        return self.root / "data"

    @property
    def exec_root(self) -> Path:
        return self.root / "exec"

    @property
    def pidfile(self) -> Path:
        return self.root / "docker.pid"

    @property
    def log(self) -> Path:
        return self.root / "dockerd.log"

    @property
    def running(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is None
        return self.pid is not None and _alive(self.pid)

    def __repr__(self) -> str:
        return f"ExtraDockerd(host={self.host!r}, root={str(self.root)!r}, bridge={self.bridge!r})"

    # -- clients ----------------------------------------------------------------------------
    def tls_config(self, *, client_cert: bool = True) -> Any:
        import docker.tls

        return docker.tls.TLSConfig(
            client_cert=(str(self.cert), str(self.key)) if client_cert else None,
            ca_cert=str(self.ca),
            verify=True,
        )

    def client(self, *, timeout: int = 60, client_cert: bool = True, version: str = "auto") -> Any:
        """A docker.DockerClient for ``host`` over TLS (``client_cert=False``: without the
        client certificate, which the engine refuses).

        Its session ignores the environment (``trust_env = False``): requests would otherwise
        verify the engine against REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE instead of our CA
        (docker/docker-py#2433; this machine sets both to the system bundle) and send
        127.0.0.1 to an HTTPS_PROXY.  ``version="auto"`` is negotiated here, with a session
        that already ignores the environment: docker-py's own negotiation happens inside
        the constructor, before trust_env can be turned off, and fails."""
        import docker

        tls = self.tls_config(client_cert=client_cert)
        if version == "auto":
            probe = docker.APIClient(
                base_url=self.host, tls=tls, timeout=timeout, version=MIN_API_VERSION
            )
            probe.trust_env = False
            try:
                version = probe.version(api_version=False)["ApiVersion"]
            finally:
                probe.close()
        client = docker.DockerClient(base_url=self.host, tls=tls, timeout=timeout, version=version)
        client.api.trust_env = False
        return client

    def local_client(self, *, timeout: int = 60) -> Any:
        """A docker.DockerClient on the engine's unix socket (the tests' own inspection)."""
        import docker

        return docker.DockerClient(base_url=self.socket, timeout=timeout, version="auto")

    # -- set up -----------------------------------------------------------------------------
    def setup(self) -> None:
        """Certificates, bridge, dockerd, test images.  ExtraDockerdUnavailable when it cannot
        run; call close() in every case."""
        missing = [tool for tool in TOOLS if shutil.which(tool) is None]
        if missing:
            raise ExtraDockerdUnavailable(f"not installed: {', '.join(missing)}")
        if os.geteuid() != 0:
            raise ExtraDockerdUnavailable("needs root (a bridge and a dockerd of its own)")
        sweep_stale()
        self._write_state()
        self.make_certificates()
        self.create_bridge()
        self.start()
        self.load_images()

    def _write_state(self) -> None:
        state = {
            "owner": os.getpid(),
            "bridge": self.bridge,
            "port": self.port,
            "extra_bridges": self.extra_bridges,
        }
        (self.root / "state.json").write_text(json.dumps(state))

    def make_certificates(self) -> None:
        """A CA, a server certificate for 127.0.0.1/localhost, a client certificate (P-256)."""
        d = self.certs
        d.mkdir(parents=True, exist_ok=True)

        def openssl(*args: str) -> None:
            _run(["openssl", *args], cwd=d)

        def key(name: str) -> None:
            openssl(
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                name,
            )

        key("ca-key.pem")
        openssl(
            "req", "-x509", "-new", "-key", "ca-key.pem", "-out", "ca.pem", "-days", "7",
            "-subj", "/CN=stackctl test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )  # fmt: skip
        for name, cn, extensions in (
            (
                "server",
                "localhost",
                "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
            ),
            ("", "stackctl test client", "extendedKeyUsage=clientAuth\n"),
        ):
            stem = f"{name}-" if name else ""
            key(f"{stem}key.pem")
            (d / f"{stem}ext.cnf").write_text(
                extensions + "basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
            )
            openssl("req", "-new", "-key", f"{stem}key.pem", "-out", f"{stem}req.csr",
                    "-subj", f"/CN={cn}")  # fmt: skip
            openssl(
                "x509", "-req", "-in", f"{stem}req.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
                "-CAcreateserial", "-days", "7", "-out", f"{stem}cert.pem",
                "-extfile", f"{stem}ext.cnf",
            )  # fmt: skip
        for path in d.glob("*key.pem"):
            path.chmod(0o600)

    def create_bridge(self) -> None:
        """``ip link add <bridge> type bridge`` on the first free /24 of SUBNET_CANDIDATES
        (under a lock: two sessions never pick the same one)."""
        with LOCK_FILE.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            used = _used_networks()
            for candidate in SUBNET_CANDIDATES:
                net = ipaddress.ip_network(candidate)
                if not any(net.overlaps(other) for other in used):
                    break
            else:
                raise ExtraDockerdUnavailable(
                    f"no free /24 for the bridge among {', '.join(SUBNET_CANDIDATES)}"
                )
            self.subnet = str(net)
            _run(["ip", "link", "add", "name", self.bridge, "type", "bridge"])
            self._bridge_created = True
            _run(["ip", "addr", "add", f"{net.network_address + 1}/{net.prefixlen}",
                  "dev", self.bridge])  # fmt: skip
            _run(["ip", "link", "set", self.bridge, "up"])

    def dockerd_args(self) -> list[str]:
        args = [
            "dockerd",
            "--host", self.socket,
            "--host", self.host,
            "--tlsverify",
            "--tlscacert", str(self.ca),
            "--tlscert", str(self.certs / "server-cert.pem"),
            "--tlskey", str(self.certs / "server-key.pem"),
            "--data-root", str(self.data_root),
            "--exec-root", str(self.exec_root),
            "--pidfile", str(self.pidfile),
            "--config-file", str(self.root / "daemon.json"),
            "--bridge", self.bridge,
            "--iptables=false",
            "--ip-forward=false",
            "--containerd-namespace", self.namespace,
            "--containerd-plugins-namespace", f"{self.namespace}-plugins",
            "--shutdown-timeout", "5",
        ]  # fmt: skip
        if "--ip6tables" in _dockerd_help():
            args.append("--ip6tables=false")
        assert "--default-address-pool" not in args and "--bridge=none" not in args
        return args

    def start(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Start dockerd (again, on the same data root and port) and wait until it answers on
        its unix socket and over TLS."""
        if self.running:
            raise RuntimeError(f"{self!r} is already running (pid {self.pid})")
        if not bridge_exists(self.bridge):
            raise ExtraDockerdUnavailable(f"its bridge {self.bridge} is gone")
        self._reap()
        (self.root / "daemon.json").write_text("{}\n")
        # Pid files of dead (or zombie) processes: dockerd would refuse to start, or wait
        # for a containerd that no longer answers.
        for pidfile in (self.pidfile, self.exec_root / "containerd" / "containerd.pid"):
            with contextlib.suppress(OSError, ValueError):
                if not _alive(int(pidfile.read_text().strip() or "0")):
                    pidfile.unlink()
        with self.log.open("ab") as log:
            log.write(f"\n==== {time.strftime('%H:%M:%S')} starting dockerd\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self.dockerd_args(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                start_new_session=True,
                preexec_fn=_set_pdeathsig,
            )
        self.pid = self.proc.pid
        self._wait_ready(timeout_s)

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        last: Exception | None = None
        while time.monotonic() < deadline:
            if not self.running:
                raise ExtraDockerdUnavailable(
                    f"dockerd exited at start (code {self.proc and self.proc.returncode}); "
                    f"log {self.log}:\n{self.log_tail()}"
                )
            if Path(self.socket.removeprefix("unix://")).exists():
                try:
                    with contextlib.closing(self.local_client(timeout=5)) as local:
                        local.info()
                    with contextlib.closing(self.client(timeout=5)) as tls:
                        tls.ping()
                    return
                except Exception as exc:  # docker's, requests' and SSL errors
                    last = exc
            time.sleep(0.1)
        raise ExtraDockerdUnavailable(
            f"dockerd did not answer within {timeout_s:.0f} s ({last}); "
            f"log {self.log}:\n{self.log_tail()}"
        )

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def load_images(self) -> None:
        """``docker save`` (main engine, from the environment) | ``docker load`` (this one)."""
        if not self.images:
            return
        save = subprocess.Popen(
            ["docker", "save", *self.images], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert save.stdout is not None
        try:
            load = subprocess.run(
                ["docker", "-H", self.socket, "load", "--quiet"],
                stdin=save.stdout,
                capture_output=True,
                text=True,
                timeout=300,
            )
        finally:
            save.stdout.close()
            save_err = save.stderr.read().decode(errors="replace") if save.stderr else ""
            save.wait(timeout=60)
        if save.returncode != 0 or load.returncode != 0:
            raise ExtraDockerdUnavailable(
                f"copying {', '.join(self.images)} into it failed: docker save exited "
                f"{save.returncode} ({save_err.strip()}), docker load exited "
                f"{load.returncode} ({load.stderr.strip()})"
            )

    # -- stopping ---------------------------------------------------------------------------
    def kill(self) -> None:
        """SIGKILL dockerd (its process group); its containerd dies with it, its containers'
        shims and processes stay (as when an engine crashes).  start() brings it back."""
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self._reap(timeout_s=10)

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM to dockerd, up to ``timeout_s`` to exit, then SIGKILL to its process group."""
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.pid, signal.SIGTERM)
        if not self._reap(timeout_s=timeout_s):
            self.kill()

    def _reap(self, timeout_s: float = 0) -> bool:
        """Wait for dockerd to exit; True if it is gone."""
        if self.proc is not None:
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                return False
            return True
        deadline = time.monotonic() + timeout_s
        while self.pid is not None and _alive(self.pid):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True

    def remove_everything(self) -> list[str]:
        """Force-remove every container, then every network but the predefined ones, then
        every volume; the problems (empty: all gone)."""
        problems: list[str] = []
        with contextlib.closing(self.local_client(timeout=30)) as local:
            api = local.api
            for container in api.containers(all=True):
                try:
                    api.remove_container(container["Id"], v=True, force=True)
                except Exception as exc:
                    problems.append(f"container {container['Id'][:12]}: {exc}")
            for network in api.networks():
                if network["Name"] in {"bridge", "host", "none"}:
                    continue
                try:
                    api.remove_network(network["Id"])
                except Exception as exc:
                    problems.append(f"network {network['Name']}: {exc}")
            for volume in api.volumes().get("Volumes") or []:
                try:
                    api.remove_volume(volume["Name"], force=True)
                except Exception as exc:
                    problems.append(f"volume {volume['Name']}: {exc}")
        return problems

    def close(self) -> list[str]:
        """Everything back as it was, whatever happened; the problems (empty: all clean)."""
        problems: list[str] = []
        if self.pid is not None and self.data_root.exists():
            if not self.running and bridge_exists(self.bridge):
                # Killed by a test: started again, it cleans up its containers, whose processes
                # are killed first (else dockerd gives each one its 10 s stop timeout).
                _kill_leftovers(self.root)
                try:
                    self.start(timeout_s=30)
                except Exception as exc:
                    problems.append(f"could not start the killed dockerd to clean up: {exc}")
            if self.running:
                try:
                    problems += self.remove_everything()
                except Exception as exc:
                    problems.append(f"removing its containers/networks/volumes: {exc}")
            self.stop()
            if self.running:
                problems.append(f"dockerd {self.pid} still runs after SIGKILL")
        problems += cleanup_host(
            self.root, self.bridge, created=self._bridge_created, extra=self.extra_bridges
        )
        docker0 = self._docker0_ifindex()
        if self.docker0_ifindex_before is not None and docker0 != self.docker0_ifindex_before:
            problems.append(f"docker0 changed (ifindex {self.docker0_ifindex_before} -> {docker0})")
        return problems

    @staticmethod
    def _docker0_ifindex() -> int | None:
        try:
            return int(Path("/sys/class/net/docker0/ifindex").read_text())
        except (OSError, ValueError):
            return None


# -- host clean-up (also for a session that died) ------------------------------------------


def _used_networks() -> list[Any]:
    """The IPv4 networks of the host's routes and addresses."""
    found: list[Any] = []
    for args in (["ip", "-4", "-o", "route", "show", "table", "all"], ["ip", "-4", "-o", "addr"]):
        out = subprocess.run(args, capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            for word in line.split():
                if "/" in word or word[:1].isdigit():
                    with contextlib.suppress(ValueError):
                        found.append(ipaddress.ip_network(word, strict=False))
    return [n for n in found if n.prefixlen > 0]  # not the default route


_HELP: list[str] = []


def _dockerd_help() -> str:
    if not _HELP:
        proc = subprocess.run(["dockerd", "--help"], capture_output=True, text=True, timeout=30)
        _HELP.append(proc.stdout + proc.stderr)
    return _HELP[0]


def _processes_naming(root: Path) -> list[int]:
    """Pids whose command line names ``root`` (its dockerd, containerd and shims)."""
    needle = str(root).encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with contextlib.suppress(OSError):
                cmdline = (entry / "cmdline").read_bytes()
                if needle + b"/" in cmdline or cmdline.replace(b"\0", b" ").endswith(needle):
                    pids.append(int(entry.name))
    return pids


def _container_cgroups(root: Path) -> list[Path]:
    """The cgroups (v1 hierarchies or v2) of the containers of the data root under ``root``."""
    ids = [p.name for p in (root / "data" / "containers").glob("*") if len(p.name) == 64]
    found: list[Path] = []
    for cid in ids:
        found += Path("/sys/fs/cgroup").glob(f"*/docker/{cid}")
        found += Path("/sys/fs/cgroup").glob(f"docker/{cid}")
        found += Path("/sys/fs/cgroup").glob(f"*/system.slice/docker-{cid}.scope")
    return found


def _kill_leftovers(root: Path) -> list[int]:
    killed: set[int] = set()
    for _ in range(3):
        pids = set(_processes_naming(root))
        for cgroup in _container_cgroups(root):
            with contextlib.suppress(OSError, ValueError):
                pids.update(int(p) for p in (cgroup / "cgroup.procs").read_text().split())
        pids = {p for p in pids if _alive(p)}
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        killed |= pids
        time.sleep(0.3)
    for cgroup in _container_cgroups(root):
        with contextlib.suppress(OSError):
            cgroup.rmdir()
    return sorted(killed)


def cleanup_host(
    root: Path, bridge: str, *, created: bool = True, extra: Iterable[str] = ()
) -> list[str]:
    """Kill what still runs from ``root``, unmount under it, delete ``bridge`` (if ``created``)
    and the ``extra`` bridges with their ports, remove it."""
    problems: list[str] = []
    killed = _kill_leftovers(root)
    if killed:
        problems.append(f"killed leftover processes of {root}: {killed}")
    for point in mounts_under(root):
        if subprocess.run(["umount", point], capture_output=True, timeout=30).returncode:
            subprocess.run(["umount", "-l", point], capture_output=True, timeout=30)
    for point in mounts_under(root):
        subprocess.run(["umount", "-R", "-l", point], capture_output=True, timeout=30)
    left = mounts_under(root)
    if left:
        problems.append(f"still mounted under {root}: {left[:5]}")
    owned = [bridge] if created and bridge.startswith(BRIDGE_PREFIX) else []
    owned += [name for name in extra if name.startswith(EXTRA_BRIDGE_PREFIX)]
    for name in (bridge for bridge in owned if bridge_exists(bridge)):
        ports = subprocess.run(
            ["ip", "-o", "link", "show", "master", name], capture_output=True, text=True
        ).stdout
        for line in ports.splitlines():  # "12: veth1a2b@if11: <...> ..."
            port = line.split(":", 2)[1].strip().split("@")[0]
            subprocess.run(["ip", "link", "delete", port], capture_output=True, timeout=30)
        proc = subprocess.run(
            ["ip", "link", "delete", name], capture_output=True, text=True, timeout=30
        )
        if proc.returncode:
            problems.append(f"ip link delete {name}: {proc.stderr.strip()}")
    if not left:
        shutil.rmtree(root, ignore_errors=True)
        if root.exists():
            problems.append(f"could not remove {root}")
    return problems


def sweep_stale() -> list[str]:
    """Clean up after sessions that died without closing their engine: every /tmp/sd-*
    folder whose ``state.json`` names an owner process that is gone."""
    problems: list[str] = []
    for folder in TMP.glob(f"{ROOT_PREFIX}*"):
        try:
            state = json.loads((folder / "state.json").read_text())
            owner, bridge = int(state["owner"]), str(state["bridge"])
            extra = [str(name) for name in state.get("extra_bridges", [])]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if owner == os.getpid() or _alive(owner):
            continue
        problems += cleanup_host(folder, bridge, extra=extra)
    return problems
