"""What the manifests issue loads, the engine gets: one rich service, inspected after apply."""

from __future__ import annotations

import pytest

from controller.models import CommandStatus

pytestmark = pytest.mark.engine


def test_rich_service_is_created_as_declared(h, engine_janitor, test_images, free_port,
                                             docker_client, tmp_path):
    name = engine_janitor.project("rich")
    data = h.tmp / f"manifests-{name}" / "data"
    data.mkdir(parents=True)
    (data / "hello.txt").write_text("from the host\n")
    desired = h.stack(name, {
        "services": {
            "app": {
                "image": test_images.v1,
                "command": ["sleep", "3600"],
                "init": True,
                "user": "nobody",
                "working_dir": "/tmp",
                "hostname": "apphost",
                "environment": ["A=1", "B=two"],
                "labels": {"team": "web"},
                "ports": [{"target": 8080, "published": str(free_port), "host_ip": "127.0.0.1",
                           "protocol": "tcp"}],
                "expose": ["9000"],
                "volumes": ["data:/data", "/cache", "./data:/hostdata:ro"],
                "tmpfs": ["/scratch"],
                "read_only": True,
                "cap_drop": ["NET_RAW"],
                "ulimits": {"nofile": {"soft": 1024, "hard": 2048}},
                "mem_limit": "64m",
                "cpus": 0.5,
                "extra_hosts": ["db.local:127.0.0.2"],
                "dns": ["127.0.0.53"],
                "stop_signal": "SIGINT",
                "stop_grace_period": "3s",
                "shm_size": "16m",
                "restart": "on-failure:3",
                "networks": {"front": {"aliases": ["api"]}, "back": {}},
            },
        },
        "volumes": {"data": {}},
        "networks": {"front": {}, "back": {"internal": True}},
    })
    outcome = h.apply(desired, root=h.tmp / f"manifests-{name}")
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    info = docker_client.api.inspect_container(f"{name}-app-1")
    config, host = info["Config"], info["HostConfig"]
    assert config["User"] == "nobody" and config["WorkingDir"] == "/tmp"
    assert config["Hostname"] == "apphost"
    assert {"A=1", "B=two"} <= set(config["Env"])
    assert config["Labels"]["team"] == "web"
    assert config["Labels"]["com.docker.compose.service"] == "app"
    assert config["StopSignal"] == "SIGINT" and config["StopTimeout"] == 3
    assert "9000/tcp" in config["ExposedPorts"]
    assert host["PortBindings"]["8080/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(free_port)}]
    assert host["ReadonlyRootfs"] is True and host["Init"] is True
    assert host["CapDrop"] == ["NET_RAW"]
    assert host["Memory"] == 64 * 1024 * 1024 and host["NanoCpus"] == 500_000_000
    assert host["Ulimits"] == [{"Name": "nofile", "Soft": 1024, "Hard": 2048}]
    assert host["ExtraHosts"] == ["db.local:127.0.0.2"] and host["Dns"] == ["127.0.0.53"]
    assert host["ShmSize"] == 16 * 1024 * 1024
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert "/scratch" in host["Tmpfs"]
    mounts = {m["Destination"]: m for m in info["Mounts"]}
    assert mounts["/data"]["Name"] == f"{name}_data"
    assert mounts["/cache"]["Type"] == "volume"
    assert mounts["/hostdata"]["RW"] is False
    networks = info["NetworkSettings"]["Networks"]
    assert set(networks) == {f"{name}_front", f"{name}_back"}
    assert "api" in networks[f"{name}_front"]["Aliases"]
    app = docker_client.containers.get(f"{name}-app-1")
    assert app.exec_run(["cat", "/hostdata/hello.txt"]).output == b"from the host\n"
    # Unchanged: nothing to do, even with all of this.
    h.engine.calls.reset()
    assert h.apply(desired, root=h.tmp / f"manifests-{name}").command.status is (
        CommandStatus.DONE)
    assert h.engine.calls.mutating == 0, h.engine.calls.counts


def test_security_namespaces_and_scheduling_keys_reach_the_engine(h, engine_janitor, test_images,
                                                                  docker_client):
    name = engine_janitor.project("knobs")
    desired = h.stack(name, {"services": {"app": {
        "image": test_images.v1, "command": ["sleep", "3600"], "init": True,
        "security_opt": ["no-new-privileges:true"],
        "dns_search": "example.internal", "dns_opt": ["ndots:2"],
        "group_add": ["100", 101],
        "ipc": "shareable", "pid": "host",
        "domainname": "example.internal",
        "oom_score_adj": 300, "cpu_shares": 512, "mem_reservation": "32m", "pids_limit": 64,
    }}})
    outcome = h.apply(desired)
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    info = docker_client.api.inspect_container(f"{name}-app-1")
    config, host = info["Config"], info["HostConfig"]
    assert "no-new-privileges:true" in host["SecurityOpt"]  # pid: host adds label=disable
    assert host["DnsSearch"] == ["example.internal"] and host["DnsOptions"] == ["ndots:2"]
    assert host["GroupAdd"] == ["100", "101"]
    assert (host["IpcMode"], host["PidMode"]) == ("shareable", "host")
    assert config["Domainname"] == "example.internal"
    assert (host["OomScoreAdj"], host["CpuShares"]) == (300, 512)
    assert (host["MemoryReservation"], host["PidsLimit"]) == (32 * 1024 * 1024, 64)
    h.engine.calls.reset()
    assert h.apply(desired).command.status is CommandStatus.DONE
    assert h.engine.calls.mutating == 0, h.engine.calls.counts


def test_suspended_stack_records_but_changes_nothing(h, engine_janitor, test_images):
    name = engine_janitor.project("nap")
    svc = {"image": test_images.v1, "command": ["sleep", "3600"], "init": True}
    h.apply(h.stack(name, {"services": {"app": svc}}))
    before = h.containers(name)
    h.engine.calls.reset()
    outcome = h.apply(h.stack(name, {"services": {"app": {**svc, "environment": {"X": "1"}}}},
                              suspend=True))
    assert outcome.command.status is CommandStatus.DONE
    assert h.engine.calls.mutating == 0
    assert h.containers(name) == before
    assert h.db.stacks.require(name).health_status == "Suspended"
