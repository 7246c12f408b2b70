"""The single-node Swarm test engine works: a swarm only there, dnsrr services on an overlay
network that serve and update, a failed update rolled back, secrets and configs in the tasks,
and nothing left on the host after close (or after a killed session's sweep)."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import subprocess
import time
from pathlib import Path

import docker.errors
import pytest
from docker.types import (
    ConfigReference,
    EndpointSpec,
    Healthcheck,
    RollbackConfig,
    SecretReference,
    ServiceMode,
    UpdateConfig,
)
from helpers.dockerd import _processes_naming, bridge_exists, mounts_under, sweep_stale
from helpers.swarm import (
    GATEWAY_NETWORK,
    OVERLAY_POOL,
    SwarmDockerd,
    exec_in_task,
    task_containers,
    wait_running,
    wait_tasks_gone,
    wait_update,
)

pytestmark = pytest.mark.engine

HTTPD = ["httpd", "-f", "-p", "8080", "-h", "/www"]
SECOND = 1_000_000_000  # swarm durations are in nanoseconds
#: quick updates: one task at a time, the new one first, watched for one second
UPDATE = UpdateConfig(
    parallelism=1, delay=0, monitor=SECOND, failure_action="rollback", order="start-first"
)
ROLLBACK = RollbackConfig(parallelism=0, monitor=SECOND, order="start-first")


def fetch(host: str) -> str:
    """A shell command that GETs http://host:8080/, retrying for about 5 s."""
    return (
        f"for i in $(seq 50); do timeout 2 wget -q -O- http://{host}:8080/ && exit 0; "
        "sleep 0.1; done; exit 1"
    )


def _subnet(network, timeout_s: float = 10.0) -> str:
    """The subnet of an overlay network: swarm allocates it a moment after the network is
    created (until then its IPAM Config is None)."""
    deadline = time.monotonic() + timeout_s
    while not network.attrs["IPAM"]["Config"] and time.monotonic() < deadline:
        time.sleep(0.1)
        network.reload()
    return network.attrs["IPAM"]["Config"][0]["Subnet"]


def _name(what: str) -> str:
    return f"swfix-{what}-{secrets.token_hex(3)}"


@pytest.fixture
def swarm(swarm_engine):
    """A TLS client of the swarm engine; removes the test's services, networks, secrets and
    configs (all named swfix-...) afterwards."""
    client = swarm_engine.client()
    try:
        yield client
    finally:
        for collection in (client.services, client.secrets, client.configs):
            for item in collection.list():
                if item.name.startswith("swfix-"):
                    with contextlib.suppress(Exception):
                        item.remove()
        wait_tasks_gone(client.api)
        for container in client.containers.list(all=True, ignore_removed=True):
            if container.name.startswith("swfix-"):
                container.remove(force=True)
        for network in client.networks.list():
            if network.name.startswith("swfix-"):
                network.remove()
        client.close()


def test_swarm_is_active_on_the_swarm_engine_only(swarm_engine, swarm, docker_client, test_images):
    assert swarm_engine.host.startswith("tcp://127.0.0.1:")
    assert swarm.info()["Swarm"]["LocalNodeState"] == "active"
    assert swarm.info()["Swarm"]["ControlAvailable"] is True
    assert [n.attrs["Spec"]["Role"] for n in swarm.nodes.list()] == ["manager"]
    # advertised on a loopback address of its own (swarm's gossip port 7946 is fixed)
    assert swarm.info()["Swarm"]["NodeAddr"] == swarm_engine.swarm_address != "127.0.0.1"
    assert docker_client.info()["Swarm"]["LocalNodeState"] == "inactive"
    # its docker_gwbridge is its own bridge on its own /24, the overlays in OVERLAY_POOL
    gateway = swarm.networks.get(GATEWAY_NETWORK).attrs
    assert gateway["Options"]["com.docker.network.bridge.name"] == swarm_engine.gateway_bridge
    assert gateway["IPAM"]["Config"][0]["Subnet"] == swarm_engine.gateway_subnet
    assert bridge_exists(swarm_engine.gateway_bridge) and not bridge_exists(GATEWAY_NETWORK)
    # no ingress network (it cannot route without IPVS): an ingress-mode port is refused
    assert "ingress" not in {n.name for n in swarm.networks.list()}
    assert not gateway["Containers"]  # no ingress_sbox endpoint
    with pytest.raises(docker.errors.APIError, match="service needs ingress network, but no"):
        swarm.services.create(
            test_images.v1,
            HTTPD,
            name=_name("ingress"),
            endpoint_spec=EndpointSpec(ports={80: 8080}),
        )
    subnet = _subnet(swarm.networks.create(_name("net"), driver="overlay"))
    assert ipaddress.ip_network(subnet).subnet_of(ipaddress.ip_network(OVERLAY_POOL))


def test_dnsrr_service_serves_on_an_overlay_network_and_rolls_to_v2(
    swarm_engine, swarm, test_images
):
    network = swarm.networks.create(_name("net"), driver="overlay", attachable=True)
    secret = swarm.secrets.create(name=_name("secret"), data=b"s3cret")
    config = swarm.configs.create(name=_name("config"), data=b"setting=1")
    name = _name("web")
    service = swarm.services.create(
        test_images.v1,
        HTTPD,
        name=name,
        init=True,
        mode=ServiceMode("replicated", replicas=2),
        endpoint_spec=EndpointSpec(mode="dnsrr"),
        networks=[network.name],
        secrets=[SecretReference(secret.id, secret.name)],
        configs=[ConfigReference(config.id, config.name, filename="/etc/app.conf")],
        update_config=UPDATE,
        rollback_config=ROLLBACK,
    )
    wait_running(service, 2)

    # task to task: NAME and tasks.NAME both resolve to the two tasks (dnsrr: no VIP)
    subnet = ipaddress.ip_network(_subnet(network))
    for host in (name, f"tasks.{name}"):
        code, out = exec_in_task(swarm, service, f"nslookup {host}")
        addresses = {ipaddress.ip_address(line.split()[-1]) for line in out.splitlines()[2:]
                     if line.startswith("Address")}  # fmt: skip
        assert code == 0 and len(addresses) == 2, out
        assert all(a in subnet for a in addresses), (addresses, subnet)
        assert exec_in_task(swarm, service, fetch(host)) == (
            0,
            "<html><body>stackctl test image 1</body></html>\n",
        )
    # secrets and configs are in the task
    assert exec_in_task(swarm, service, f"cat /run/secrets/{secret.name}") == (0, "s3cret")
    assert exec_in_task(swarm, service, "cat /etc/app.conf") == (0, "setting=1")
    # a plain container joins the attachable network and reaches the service by name
    probe = swarm.containers.run(
        test_images.v2, ["sh", "-c", fetch(name)], detach=True,
        name=_name("probe"), network=network.name,
    )  # fmt: skip
    assert probe.wait(timeout=60)["StatusCode"] == 0, probe.logs()
    assert b"stackctl test image 1" in probe.logs()

    # a rolling update to v2 completes; every task then serves v2
    service.update(image=test_images.v2)
    statuses = wait_update(service, {"completed", "paused", "rollback_completed"})
    assert statuses[-1] == {"State": "completed", "Message": "update completed"}, statuses
    tasks = wait_running(service, 2)
    assert {t["Spec"]["ContainerSpec"]["Image"] for t in tasks} == {test_images.v2}
    for container in task_containers(swarm, service):
        code, out = container.exec_run(["cat", test_images.version_file])
        assert (code, out.decode().strip()) == (0, "2")


def test_update_with_a_failing_healthcheck_is_rolled_back(swarm_engine, swarm, test_images):
    service = swarm.services.create(
        test_images.v1,
        HTTPD,
        name=_name("bad"),
        init=True,
        endpoint_spec=EndpointSpec(mode="dnsrr"),
        update_config=UPDATE,
        rollback_config=ROLLBACK,
    )
    wait_running(service, 1)
    service.update(
        image=test_images.v2,
        healthcheck=Healthcheck(
            test=["CMD", "false"], interval=SECOND // 2, timeout=SECOND, retries=1
        ),
    )
    statuses = wait_update(service, {"completed", "paused", "rollback_completed"})
    # Swarm's words, seen in order:
    #   updating            "update in progress"
    #   rollback_started    "update rolled back due to failure or early termination of task
    #                        <task id>"
    #   rollback_completed  "rollback completed"
    states = [s["State"] for s in statuses]
    assert states[-1] == "rollback_completed", statuses
    assert statuses[-1]["Message"] == "rollback completed"
    started = [s["Message"] for s in statuses if s["State"] == "rollback_started"]
    assert started and started[0].startswith(
        "update rolled back due to failure or early termination of task"
    ), statuses
    service.reload()
    spec = service.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]
    assert spec["Image"] == test_images.v1 and "Healthcheck" not in spec
    failed = [t for t in service.tasks() if t["Status"]["State"] == "failed"]
    assert failed and "unhealthy container" in failed[0]["Status"]["Err"], failed
    assert [t["Spec"]["ContainerSpec"]["Image"] for t in wait_running(service, 1)] == [
        test_images.v1
    ]


def _links() -> dict[str, str | None]:
    """Interface name -> its master bridge (None: none), in the host's namespace."""
    found: dict[str, str | None] = {}
    for path in Path("/sys/class/net").iterdir():
        master = path / "master"
        found[path.name] = master.resolve().name if master.exists() else None
    return found


def _run_a_service(engine: SwarmDockerd, image: str) -> None:
    with contextlib.closing(engine.client()) as client:
        network = client.networks.create("swfix-net", driver="overlay", attachable=True)
        service = client.services.create(
            image, ["sleep", "600"], name="swfix-sleep", init=True, networks=[network.name],
            endpoint_spec=EndpointSpec(mode="dnsrr"),
            secrets=[SecretReference(client.secrets.create(name="swfix-s", data=b"x").id,
                                     "swfix-s")],
        )  # fmt: skip
        wait_running(service, 1)
        # a second swarm next to the session's: its gossip on its own address, so its DNS works
        code, out = exec_in_task(client, service, "nslookup tasks.swfix-sleep")
        assert code == 0 and "Name:" in out, out


def _assert_nothing_left(
    engine: SwarmDockerd, *, ours: set[str], before: set[str], docker0: int | None
) -> None:
    assert not engine.root.exists()
    assert mounts_under(engine.root) == []
    assert _processes_naming(engine.root) == []
    links = _links()
    assert not ours & set(links), ours & set(links)
    assert GATEWAY_NETWORK not in links
    assert SwarmDockerd._docker0_ifindex() == docker0
    # Meanwhile other tests create veths and br-* on the main engine, and other sessions
    # their own extra engines: only those may be new.
    new = set(links) - before
    assert all(n.startswith(("veth", "br-", "stkbr", "stkgw")) for n in new), new


def _end_a_session(engine: SwarmDockerd) -> list[str]:
    """What a session killed with SIGKILL leaves (dockerd killed, its owner gone), then what
    the next session does: sweep_stale(); its problems."""
    engine.kill()
    dead = subprocess.Popen(["true"])
    dead.wait()
    state = (engine.root / "state.json").read_text()
    (engine.root / "state.json").write_text(
        state.replace(f'"owner": {os.getpid()}', f'"owner": {dead.pid}')
    )
    problems = sweep_stale()  # kills its containerd, shims and the task's processes
    return [p for p in problems if not p.startswith("killed leftover processes of")]


@pytest.mark.parametrize("end", ["close", "kill then close", "killed session swept"])
def test_nothing_is_left_after_the_swarm_engine(test_images, end):
    before = set(_links())
    docker0 = SwarmDockerd._docker0_ifindex()
    engine = SwarmDockerd(images=[test_images.v1])
    try:
        engine.setup()
        _run_a_service(engine, test_images.v1)
        ours = {n for n, m in _links().items() if m in {engine.bridge, engine.gateway_bridge}}
        ours |= {engine.bridge, engine.gateway_bridge}
        assert len(ours) >= 3  # both bridges and the task's veth on docker_gwbridge
        assert mounts_under(engine.exec_root / "netns")  # 1-<net id>, lb_<net id>, the task's
        if end == "kill then close":
            engine.kill()  # close() starts it again to leave the swarm
        problems = _end_a_session(engine) if end == "killed session swept" else engine.close()
    finally:
        leftovers = engine.close()  # nothing left to do after either
    assert (problems, leftovers) == ([], [])
    _assert_nothing_left(engine, ours=ours, before=before, docker0=docker0)
