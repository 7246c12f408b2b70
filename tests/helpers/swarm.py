"""A throwaway single-node Docker Swarm for the tests: an ``ExtraDockerd`` that is a manager.

``SwarmDockerd`` is what the ``swarm_engine`` session fixture yields: the extra dockerd of
helpers/dockerd.py (own data root, exec root, bridge, TLS on 127.0.0.1, the test images) on
which ``swarm init`` runs through ITS OWN socket; never on the main engine.

What a swarm needs and leaves behind on these machines (Debian's docker.io 20.10.24, kernel
6.18, found by running it):

* No extra Debian package: dockerd's own swarmkit, ``ip`` and the kernel's vxlan module.
* Swarm's gossip (networkdb) binds port 7946 on the advertise address, whatever else is
  given (not configurable: moby/moby#39280).  Two swarm engines advertising 127.0.0.1 (two
  test sessions at once) break service DNS on the second: in its tasks ``nslookup NAME``
  times out.  Each SwarmDockerd therefore advertises and listens on an address of its own in
  127.0.0.0/8 (``swarm_address``, e.g. 127.83.4.19; all of it is ``lo``, nothing to add), with
  7946 free there; the API (``host``) stays on 127.0.0.1.
* No IPVS in the kernel (no /proc/net/ip_vs; dockerd logs "error reading the kernel parameter
  net.ipv4.vs.*" at init and goes on).  A service in the default ``vip`` mode runs and
  ``NAME`` resolves to its virtual IP, but ``wget http://NAME:8080/`` hangs (``tasks.NAME``
  answers).  Services use ``EndpointSpec(mode="dnsrr")``: ``NAME`` and ``tasks.NAME`` then
  both resolve (Docker's DNS at 127.0.0.11) to every task's overlay address and answer.
* Ingress-mode published ports do not work either (the service runs, ``127.0.0.1:P`` refuses
  the connection), and a task attached to ``ingress`` that is force-removed leaves ingress's
  endpoint on docker_gwbridge behind after ``swarm leave``.  So the ``ingress`` network is
  removed right after init: a service with an ingress-mode port is then refused at once with
  400 "service needs ingress network, but no ingress network is present".
* ``mode: host`` ports (``ports={P: (8080, "tcp", "host")}``) work: with ``--iptables=false``
  ``docker-proxy`` listens on ``0.0.0.0:P`` and ``[::]:P`` (a swarm port has no host address,
  so never on 127.0.0.1 alone) and ``http://127.0.0.1:P/`` answers.  One such port per node:
  a second replica stays ``pending``, "no suitable node (host-mode port already in use on 1
  node)".  The tests therefore publish nothing and reach tasks with ``docker exec`` on this
  engine (``exec_in_task``).
* ``swarm init`` makes a ``docker_gwbridge`` network: a bridge in the host's namespace named
  ``docker_gwbridge`` on a local-pool subnet (172.17.0.0/16 here), with a veth per task
  container.  Two swarms (or one on the main engine) would clash on that name, so
  ``docker_gwbridge`` is created before ``swarm init`` on a bridge ``stkgwXXXX`` (the 4 hex of
  ``stkbrXXXX``) and the next free /24 of SUBNET_CANDIDATES; it is one of the engine's
  ``extra_bridges``, deleted with its ports at close and by ``sweep_stale()``.
* Network namespaces (``1-<net id>`` and ``lb_<net id>`` per overlay network, one per
  container; ``ingress_sbox`` while ingress exists) are nsfs mounts under the EXEC ROOT
  (``/tmp/sd-X/exec/netns``), not /var/run/docker/netns; an overlay's vxlan device and br0
  live in them, not in the host's namespace.  ``cleanup_host`` unmounts them.  dockerd logs
  "enabling default vlan on bridge br0 failed ... permission denied" per overlay; harmless.
* Overlay subnets come by default from 10.0.0.0/8 (10.0.0.0/24 for ingress, 10.0.1.0/24...),
  which holds the main engine's pool 10.213.0.0/16; they exist only inside those namespaces,
  but ``swarm init`` gets ``default_addr_pool=[OVERLAY_POOL]`` (172.31.224.0/20, a /24 each:
  outside SUBNET_CANDIDATES and the host's routes) so none can ever look like the main's.
* The vxlan data path port is a free UDP port in 40000-49151 (swarm takes 1024-49151 only),
  not 4789: the kernel keys vxlan devices by (VNI, port) in the namespace they are made in
  (the host's) and every swarm starts its VNIs at 4097; two SwarmDockerds ran at once.
* No iptables rule is written (``--iptables=false``).  The agent tries to pull a service's
  image from Docker Hub first ("pulling image failed": no DNS here) and runs the local one.
* Swarm removes a removed service's task containers slowly (one on an overlay network: its
  SIGTERM after 3.5 s, removed after 6 s; without a network: gone after 1.9 s);
  ``wait_tasks_gone`` force-removes them at once instead.
* A failed update with ``failure_action="rollback"`` goes ``updating`` "update in progress",
  ``rollback_started`` "update rolled back due to failure or early termination of task
  <task id>", ``rollback_completed`` "rollback completed"; the failed task's error (failing
  healthcheck) is "task: non-zero exit (143): dockerexec: unhealthy container".

``close()`` removes the services (and their containers), secrets, configs and overlay
networks, runs ``swarm leave --force``, then ExtraDockerd's close (containers, the
``docker_gwbridge`` network, dockerd, mounts under the folder, both bridges and their ports).
A killed swarm dockerd is started again first, so that it leaves the swarm itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import random
import socket
import time
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from helpers.dockerd import (
    EXTRA_BRIDGE_PREFIX,
    LOCK_FILE,
    SUBNET_CANDIDATES,
    ExtraDockerd,
    ExtraDockerdUnavailable,
    _free_port,
    _kill_leftovers,
    _used_networks,
    bridge_exists,
)

#: where swarm allocates overlay subnets, /24 each
OVERLAY_POOL = "172.31.224.0/20"
GATEWAY_NETWORK = "docker_gwbridge"
SERVICE_LABEL = "com.docker.swarm.service.id"
#: swarm's gossip port (networkdb, memberlist): not configurable (moby/moby#39280)
GOSSIP_PORT = 7946
#: how long wait_tasks_gone() keeps removing the removed services' containers
TASKS_GONE_TIMEOUT_S = 20.0


def _free_udp_port() -> int:
    """A UDP port free now in 40000-49151 (swarm takes a data path port only in 1024-49151,
    below the kernel's ephemeral range, so the OS cannot pick it)."""
    for port in random.sample(range(40000, 49152), 200):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with contextlib.closing(sock), contextlib.suppress(OSError):
            sock.bind(("0.0.0.0", port))
            return port
    raise ExtraDockerdUnavailable("no free UDP port in 40000-49151 for the vxlan data path")


def _free_loopback_address() -> str:
    """An address of 127.0.0.0/8 (all of it is the host's ``lo``) whose port GOSSIP_PORT is
    free for TCP and UDP: swarm's gossip (networkdb) always binds it on the advertise address,
    so two swarms on one address break each other's service DNS."""
    for _ in range(50):
        address = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
        try:
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                with contextlib.closing(socket.socket(socket.AF_INET, kind)) as sock:
                    sock.bind((address, GOSSIP_PORT))
        except OSError:
            continue
        return address
    raise ExtraDockerdUnavailable(f"no 127.x.y.z with port {GOSSIP_PORT} free")


class SwarmDockerd(ExtraDockerd):
    """An ExtraDockerd that is the manager (and only node) of a swarm of its own."""

    def __init__(self, images: Iterable[str] = (), *, root: Path | None = None) -> None:
        super().__init__(images, root=root)
        self.gateway_bridge = EXTRA_BRIDGE_PREFIX + self.bridge.removeprefix("stkbr")
        self.extra_bridges.append(self.gateway_bridge)
        self.gateway_subnet: str | None = None
        #: swarm's own loopback address (``--advertise-addr``), control plane
        #: (``--listen-addr``) and data path (vxlan) ports
        self.swarm_address = _free_loopback_address()
        self.swarm_port = _free_port()
        self.data_path_port = _free_udp_port()
        self.node_id: str | None = None

    def __repr__(self) -> str:
        return f"SwarmDockerd(host={self.host!r}, root={str(self.root)!r}, bridge={self.bridge!r})"

    # -- set up -----------------------------------------------------------------------------
    def setup(self) -> None:
        """ExtraDockerd's setup, then docker_gwbridge and ``swarm init``; call close() in
        every case."""
        super().setup()
        self.create_gateway_network()
        self.init_swarm()

    def create_gateway_network(self) -> None:
        """``docker_gwbridge`` on a bridge named ``stkgwXXXX`` and a free /24, made before
        ``swarm init`` (which then uses it); under the lock until its route exists."""
        import docker.types

        with LOCK_FILE.open("a") as lock, contextlib.closing(self.local_client()) as local:
            fcntl.flock(lock, fcntl.LOCK_EX)
            used = _used_networks()
            free = [
                net
                for net in map(ipaddress.ip_network, SUBNET_CANDIDATES)
                if not any(net.overlaps(other) for other in used)
            ]
            if not free:
                raise ExtraDockerdUnavailable(f"no free /24 for {GATEWAY_NETWORK}")
            self.gateway_subnet = str(free[0])
            local.networks.create(
                GATEWAY_NETWORK,
                driver="bridge",
                options={
                    "com.docker.network.bridge.name": self.gateway_bridge,
                    "com.docker.network.bridge.enable_icc": "false",
                    "com.docker.network.bridge.enable_ip_masquerade": "false",
                },
                ipam=docker.types.IPAMConfig(
                    pool_configs=[docker.types.IPAMPool(subnet=self.gateway_subnet)]
                ),
            )
        if not bridge_exists(self.gateway_bridge):
            raise ExtraDockerdUnavailable(f"{GATEWAY_NETWORK} did not create {self.gateway_bridge}")

    def init_swarm(self) -> None:
        with contextlib.closing(self.local_client()) as local:
            try:
                self.node_id = local.swarm.init(
                    advertise_addr=self.swarm_address,
                    listen_addr=f"{self.swarm_address}:{self.swarm_port}",
                    default_addr_pool=[OVERLAY_POOL],
                    subnet_size=24,
                    data_path_port=self.data_path_port,
                )
            except Exception as exc:
                raise ExtraDockerdUnavailable(
                    f"swarm init failed: {exc}; log {self.log}:\n{self.log_tail()}"
                ) from exc
            self._remove_ingress(local.api)

    @staticmethod
    def _remove_ingress(api: Any, timeout_s: float = 15.0, settle_s: float = 1.5) -> None:
        """Remove the ``ingress`` network swarm makes at init (see the module's docstring: it
        cannot route here), again while it shows up, until it and its sandbox's endpoint on
        docker_gwbridge have stayed away ``settle_s``: this node sets up its own copy and that
        sandbox a moment after init, and a removal racing with it is undone or fails (seen
        once in four runs)."""
        deadline = time.monotonic() + timeout_s
        seen = False
        gone_since: float | None = None
        while time.monotonic() < deadline:
            found = [n for n in api.networks(names=["ingress"]) if n["Name"] == "ingress"]
            endpoints = api.inspect_network(GATEWAY_NETWORK)["Containers"] or {}
            seen = seen or bool(found)
            if found or endpoints:
                gone_since = None
                for network in found:
                    with contextlib.suppress(Exception):  # retried
                        api.remove_network(network["Id"])
            elif seen:
                gone_since = gone_since or time.monotonic()
                if time.monotonic() - gone_since >= settle_s:
                    return
            time.sleep(0.1)
        raise ExtraDockerdUnavailable(f"could not remove the ingress network in {timeout_s:.0f} s")

    def swarm_state(self) -> str:
        """``LocalNodeState`` of this engine ("active", "inactive"...)."""
        with contextlib.closing(self.local_client(timeout=10)) as local:
            return str(local.info()["Swarm"]["LocalNodeState"])

    # -- closing ----------------------------------------------------------------------------
    def leave_swarm(self) -> list[str]:
        """Remove services (and wait for their containers), secrets, configs and swarm
        networks, then ``swarm leave --force``; the problems (empty: all gone)."""
        problems: list[str] = []
        with contextlib.closing(self.local_client(timeout=30)) as local:
            if local.info()["Swarm"]["LocalNodeState"] == "inactive":
                return problems
            api = local.api
            for kind, listed, remove in (
                ("service", lambda: api.services(), api.remove_service),
                ("secret", lambda: api.secrets(), api.remove_secret),
                ("config", lambda: api.configs(), api.remove_config),
            ):
                try:
                    for item in listed():
                        try:
                            remove(item["ID"])
                        except Exception as exc:
                            problems.append(f"{kind} {item['ID'][:12]}: {exc}")
                except Exception as exc:
                    problems.append(f"listing {kind}s: {exc}")
            problems += wait_tasks_gone(api)
            for network in api.networks(filters={"scope": "swarm"}):
                if network["Name"] != "ingress":
                    try:
                        api.remove_network(network["Id"])
                    except Exception as exc:  # removed meanwhile: 500 "network X not found"
                        if "not found" not in str(exc):
                            problems.append(f"network {network['Name']}: {exc}")
            try:
                local.swarm.leave(force=True)
            except Exception as exc:
                problems.append(f"swarm leave --force: {exc}")
            else:
                problems += _wait_ingress_gone(api)
        return problems

    def close(self) -> list[str]:
        """Swarm's part, then ExtraDockerd's close; the problems (empty: all clean)."""
        problems: list[str] = []
        if self.pid is not None and not self.running and self.data_root.exists():
            # Killed by a test: started again, it leaves the swarm itself (else, restarted by
            # ExtraDockerd.close, it would run the services' tasks again as they are removed).
            _kill_leftovers(self.root)
            with contextlib.suppress(Exception):  # ExtraDockerd.close reports it
                self.start(timeout_s=30)
        if self.running:
            try:
                problems += self.leave_swarm()
            except Exception as exc:
                problems.append(f"leaving the swarm: {exc}")
        return problems + super().close()


def wait_tasks_gone(api: Any, timeout_s: float = TASKS_GONE_TIMEOUT_S) -> list[str]:
    """Force-remove the containers of removed services until none is left; the problems.

    Swarm takes 3 to 6 s to stop (SIGTERM) and then remove a removed service's task
    containers (longer on an overlay network); removing them at once is what it would do."""
    import docker.errors

    deadline = time.monotonic() + timeout_s
    while True:
        services = {service["ID"] for service in api.services()}
        left = [
            c
            for c in api.containers(all=True, filters={"label": SERVICE_LABEL})
            if c["Labels"].get(SERVICE_LABEL) not in services
        ]
        if not left:
            return []
        problems = []
        for container in left:
            try:
                api.remove_container(container["Id"], force=True)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:  # "removal ... is already in progress"
                problems.append(f"task container {container['Id'][:12]}: {exc}")
        if time.monotonic() > deadline:
            return problems
        time.sleep(0.1)


def _wait_ingress_gone(api: Any, timeout_s: float = 15.0) -> list[str]:
    """``swarm leave`` answers before the ingress network and its sandbox's endpoint on
    docker_gwbridge are gone (then removing either fails: "not a swarm manager", "has active
    endpoints"): wait for both."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        names = {n["Name"] for n in api.networks()}
        gateway = api.inspect_network(GATEWAY_NETWORK) if GATEWAY_NETWORK in names else {}
        if "ingress" not in names and not gateway.get("Containers"):
            return []
        time.sleep(0.2)
    return [f"after swarm leave, ingress or its endpoint on {GATEWAY_NETWORK} still there"]


# -- for the tests: waiting on services and reaching their tasks ----------------------------


def running_tasks(service: Any) -> list[dict[str, Any]]:
    """The service's tasks that should run and do."""
    return [
        t
        for t in service.tasks(filters={"desired-state": "running"})
        if t["Status"]["State"] == "running"
    ]


def wait_running(service: Any, replicas: int, timeout_s: float = 60.0) -> list[dict[str, Any]]:
    """Wait until ``replicas`` tasks run; their task dicts."""
    deadline = time.monotonic() + timeout_s
    while True:
        tasks = running_tasks(service)
        if len(tasks) == replicas:
            return tasks
        if time.monotonic() > deadline:
            states = [(t["Status"]["State"], t["Status"].get("Err")) for t in service.tasks()]
            raise TimeoutError(f"{service.name}: {len(tasks)}/{replicas} running: {states}")
        time.sleep(0.2)


def wait_update(
    service: Any, states: Collection[str], timeout_s: float = 90.0
) -> list[dict[str, Any]]:
    """Wait until the service's ``UpdateStatus.State`` is one of ``states``; every distinct
    UpdateStatus seen on the way (the last one is in ``states``)."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while True:
        service.reload()
        status = service.attrs.get("UpdateStatus") or {}
        view = {k: status.get(k) for k in ("State", "Message")}
        if status and (not seen or seen[-1] != view):
            seen.append(view)
        if status.get("State") in states:
            return seen
        if time.monotonic() > deadline:
            raise TimeoutError(f"{service.name}: update status {seen}, wanted one of {states}")
        time.sleep(0.2)


def task_containers(client: Any, service: Any) -> list[Any]:
    """The containers of the service's running tasks (on this single node); not those of
    tasks being shut down (an update's old ones)."""
    ids = [t["Status"]["ContainerStatus"]["ContainerID"] for t in running_tasks(service)]
    return [client.containers.get(cid) for cid in ids]


def exec_in_task(client: Any, service: Any, command: str) -> tuple[int, str]:
    """``sh -c command`` in one running task container: (exit code, output)."""
    containers = task_containers(client, service)
    if not containers:
        raise LookupError(f"{service.name} has no running task container")
    result = containers[0].exec_run(["sh", "-c", command])
    return result.exit_code, result.output.decode(errors="replace")
