"""Short and long Compose syntaxes normalize to one canonical long form with explicit defaults."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from controller.desired import Mount, config_hash, host_path
from controller.desired.compose import Service, context_path
from controller.sources.loader import load_root


def load_service(tmp_path: Path, service: dict[str, Any], **top: Any) -> Service:
    doc = {"services": {"s": {"image": "x", **service}}, **top}
    folder = tmp_path / "app"
    folder.mkdir(exist_ok=True)
    (folder / "compose.yaml").write_text(json.dumps(doc))
    result = load_root(tmp_path)
    assert result.errors == [], [e.render() for e in result.errors]
    return result.stacks["app"].compose.services["s"]


def dump(value: Any) -> Any:
    if isinstance(value, list):
        return [dump(v) for v in value]
    return value.model_dump() if hasattr(value, "model_dump") else value


def test_defaults_are_explicit(tmp_path: Path) -> None:
    service = load_service(tmp_path, {})
    assert (service.restart, service.replicas, service.pull_policy) == ("no", 1, "missing")
    assert list(service.networks) == ["default"]
    assert (service.privileged, service.init, service.tty, service.read_only) == (False,) * 4
    assert service.command is None and service.entrypoint is None


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        (["80"], [{"target": 80, "published": None, "host_ip": None, "protocol": "tcp"}]),
        ([8080], [{"target": 8080, "published": None, "host_ip": None, "protocol": "tcp"}]),
        (["8080:80"], [{"target": 80, "published": "8080", "host_ip": None, "protocol": "tcp"}]),
        (
            ["127.0.0.1:8080:80/udp"],
            [{"target": 80, "published": "8080", "host_ip": "127.0.0.1", "protocol": "udp"}],
        ),
        (
            ["127.0.0.1::80"],
            [{"target": 80, "published": None, "host_ip": "127.0.0.1", "protocol": "tcp"}],
        ),
        (
            ["[::1]:8080:80"],
            [{"target": 80, "published": "8080", "host_ip": "::1", "protocol": "tcp"}],
        ),
        (
            ["9000-9001:80-81"],
            [
                {"target": 80, "published": "9000", "host_ip": None, "protocol": "tcp"},
                {"target": 81, "published": "9001", "host_ip": None, "protocol": "tcp"},
            ],
        ),
        (
            ["8000-8010:80"],
            [{"target": 80, "published": "8000-8010", "host_ip": None, "protocol": "tcp"}],
        ),
        (
            ["3000-3001"],
            [
                {"target": 3000, "published": None, "host_ip": None, "protocol": "tcp"},
                {"target": 3001, "published": None, "host_ip": None, "protocol": "tcp"},
            ],
        ),
        (
            [{"target": "80", "published": 8080, "host_ip": "0.0.0.0", "protocol": "tcp"}],
            [{"target": 80, "published": "8080", "host_ip": "0.0.0.0", "protocol": "tcp"}],
        ),
    ],
)
def test_ports(tmp_path: Path, ports: list[Any], expected: list[dict[str, Any]]) -> None:
    got = [
        {k: p[k] for k in ("target", "published", "host_ip", "protocol")}
        for p in dump(load_service(tmp_path, {"ports": ports}).ports)
    ]
    assert got == expected


def test_volumes_short_and_long(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    service = load_service(
        tmp_path,
        {
            "volumes": [
                "./data:/data:ro,z",
                "named:/named:nocopy",
                "/anonymous",
                "/var/run/docker.sock:/var/run/docker.sock",
                "~/cache:/cache",
                {"type": "tmpfs", "target": "/tmp", "tmpfs": {"size": "64m", "mode": "1777"}},
                {"type": "volume", "source": "named", "target": "/sub", "volume": {"subpath": "a"}},
            ]
        },
        volumes={"named": None},
    )
    mounts = {m.target: m for m in service.volumes}
    assert [m.target for m in service.volumes] == sorted(mounts)
    data = mounts["/data"]
    assert (data.type, data.source, data.root_relative, data.read_only) == (
        "bind",
        "data",  # relative to the project folder, not the root it was found in
        True,
        True,
    )
    assert data.bind is not None and data.bind.selinux == "z" and data.bind.create_host_path
    assert host_path(tmp_path / "app", data) == tmp_path / "app" / "data"
    named = mounts["/named"]
    assert (named.type, named.source, named.volume.nocopy) == ("volume", "named", True)
    assert (mounts["/anonymous"].type, mounts["/anonymous"].source) == ("volume", None)
    sock = mounts["/var/run/docker.sock"]
    assert (sock.source, sock.root_relative) == ("/var/run/docker.sock", False)
    assert mounts["/cache"].source == "~/cache"
    assert host_path(tmp_path, mounts["/cache"]) == Path.home() / "cache"
    tmp = mounts["/tmp"]
    assert tmp.tmpfs is not None and (tmp.tmpfs.size, tmp.tmpfs.mode) == (67108864, 0o1777)
    assert mounts["/sub"].volume.subpath == "a"


def test_host_path_refuses_non_bind_mounts() -> None:
    with pytest.raises(ValueError):
        host_path(Path("/r"), Mount(type="volume", source="v", target="/v"))


@pytest.mark.parametrize(
    "environment",
    [
        ["A=1", "B=two words", "C=", "D=x=y"],
        {"A": 1, "B": "two words", "C": "", "D": "x=y"},
        {"D": "x=y", "C": None, "B": "two words", "A": "1"},
    ],
)
def test_environment_list_or_map(tmp_path: Path, environment: Any) -> None:
    expected = {"A": "1", "B": "two words", "C": "", "D": "x=y"}
    if isinstance(environment, dict) and environment.get("C") is None:
        expected.pop("C")
    assert load_service(tmp_path, {"environment": environment}).environment == expected


def test_env_files_merge_under_environment_and_record_their_hash(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "a.env").write_text("A=from-a\nB=from-a\nSHARED=a\n")
    (folder / "b.env").write_text("B=from-b\n")
    service = load_service(
        tmp_path,
        {
            "env_file": ["a.env", {"path": "b.env"}, {"path": "gone.env", "required": False}],
            "environment": {"SHARED": "env", "A": None},
        },
    )
    # `A` without a value and no variable setting it: unset, over a.env's value, as Compose v2
    # does (`docker compose config` prints `A: null`; 1.29 kept the env file's value).
    assert service.environment == {"B": "from-b", "SHARED": "env"}
    assert [(f.path, f.required, f.sha256 is not None) for f in service.env_file] == [
        ("a.env", True, True),
        ("b.env", True, True),
        ("gone.env", False, False),
    ]


@pytest.mark.parametrize(
    "depends_on",
    [
        ["db"],
        # `{"db": None}` is refused since the Compose schema is checked, as Compose refuses it
        # ("services.web.depends_on.db must be a mapping").
        {"db": {"condition": "service_started"}},
        {"db": {"condition": "service_started", "required": True, "restart": False}},
    ],
)
def test_depends_on_list_or_map(tmp_path: Path, depends_on: Any) -> None:
    doc = {"services": {"db": {"image": "pg"}, "s": {"image": "x", "depends_on": depends_on}}}
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "compose.yaml").write_text(json.dumps(doc))
    service = load_root(tmp_path).stacks["app"].compose.services["s"]
    assert dump(service.depends_on["db"]) == {
        "condition": "service_started",
        "required": True,
        "restart": False,
    }


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["a=1", "b"], {"a": "1", "b": ""}),
        ({"a": 1, "b": None}, {"a": "1", "b": ""}),
        ({"com.example.x": True}, {"com.example.x": "true"}),
    ],
)
def test_labels_list_or_map(tmp_path: Path, labels: Any, expected: dict[str, str]) -> None:
    assert load_service(tmp_path, {"labels": labels}).labels == expected


@pytest.mark.parametrize(
    ("healthcheck", "expected"),
    [
        (
            {"test": "curl -f http://x", "interval": "1m30s", "retries": 3},
            {"test": ["CMD-SHELL", "curl -f http://x"], "interval": 90_000_000_000, "retries": 3},
        ),
        (
            {"test": ["CMD", "true"], "timeout": "500ms", "start_period": "1s"},
            {"test": ["CMD", "true"], "timeout": 500_000_000, "start_period": 1_000_000_000},
        ),
        ({"start_interval": "2s", "test": ["CMD", "x"]}, {"start_interval": 2_000_000_000}),
        ({"disable": True}, {"disable": True, "test": None}),
        ({"test": ["NONE"]}, {"disable": True, "test": None}),
    ],
)
def test_healthcheck(tmp_path: Path, healthcheck: Any, expected: dict[str, Any]) -> None:
    got = dump(load_service(tmp_path, {"healthcheck": healthcheck}).healthcheck)
    assert {k: got[k] for k in expected} == expected


def test_command_and_entrypoint_strings_are_split_like_a_shell(tmp_path: Path) -> None:
    service = load_service(
        tmp_path,
        {"command": "sh -c 'echo \"hi there\"'", "entrypoint": ["/init", "--", "5"]},
    )
    assert service.command == ["sh", "-c", 'echo "hi there"']
    assert service.entrypoint == ["/init", "--", "5"]  # a number there is refused, as in Compose


def test_build_short_and_long(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    (folder / "web").mkdir(parents=True)
    (folder / "web" / "Dockerfile").write_text("FROM scratch\n")
    (folder / "web" / "Prod.dockerfile").write_text("FROM scratch\n")
    short = load_service(tmp_path, {"build": "./web"}).build
    assert short is not None
    assert (short.context, short.dockerfile, short.context_root_relative) == (
        "web",
        "Dockerfile",
        True,
    )
    assert context_path(tmp_path / "app", short) == tmp_path / "app" / "web"
    long = load_service(
        tmp_path,
        {
            "build": {
                "context": "web",
                "dockerfile": "Prod.dockerfile",
                "args": ["A=1", "B"],
                "target": "prod",
            }
        },
    ).build
    assert long is not None
    assert (long.dockerfile, long.args, long.target) == ("Prod.dockerfile", {"A": "1"}, "prod")


def test_build_with_an_inline_dockerfile(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    text = "FROM scratch\nCOPY . /src\n"
    build = load_service(tmp_path, {"build": {"context": ".", "dockerfile_inline": text}}).build
    assert build is not None
    assert (build.context, build.dockerfile_inline) == (".", text)  # no Dockerfile needed
    other = load_service(
        tmp_path, {"build": {"context": ".", "dockerfile_inline": text + "USER 1\n"}}
    )
    assert config_hash(other) != config_hash(
        load_service(tmp_path, {"build": {"context": ".", "dockerfile_inline": text}})
    )


def test_a_build_without_inline_dockerfile_serializes_as_before(tmp_path: Path) -> None:
    """Digests recorded before ``dockerfile_inline`` existed stay the same (no recreate)."""
    (tmp_path / "app" / "web").mkdir(parents=True)
    (tmp_path / "app" / "web" / "Dockerfile").write_text("FROM scratch\n")
    build = load_service(tmp_path, {"build": "./web"}).build
    assert build is not None
    assert build.model_dump(mode="json") == {
        "context": "web", "context_root_relative": True, "dockerfile": "Dockerfile",
        "args": {}, "target": None,
    }


def test_develop_is_ignored_with_a_warning_as_compose_up_does(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    digests = []
    for target in ("/src", "/other"):
        doc = {"services": {"s": {"image": "x", "develop": {
            "watch": [{"action": "sync", "path": "./src", "target": target}]}}}}
        (folder / "compose.yaml").write_text(json.dumps(doc))
        result = load_root(tmp_path)
        assert result.errors == []
        [warning] = result.warnings
        assert warning.path == "services.s.develop"
        assert "ignored" in warning.message and "Compose Watch" in warning.message
        digests.append(result.stacks["app"].digest)
    assert digests[0] == digests[1]  # it has no effect, so it is not part of the meaning


def test_security_namespace_and_scheduling_keys(tmp_path: Path) -> None:
    service = load_service(tmp_path, {
        "security_opt": ["no-new-privileges:true"], "dns_search": "corp.example",
        "dns_opt": ["ndots:2"], "group_add": [100, "audio"], "ipc": "host", "pid": "host",
        "domainname": "corp.example", "oom_score_adj": "-100", "cpu_shares": 512,
        "mem_reservation": "1.5m", "pids_limit": "64",
    })
    assert (service.security_opt, service.dns_search, service.dns_opt, service.group_add) == (
        ["no-new-privileges:true"], ["corp.example"], ["ndots:2"], ["100", "audio"])
    assert (service.ipc, service.pid, service.domainname) == ("host", "host", "corp.example")
    assert (service.oom_score_adj, service.cpu_shares) == (-100, 512)
    assert (service.mem_reservation, service.limits.pids) == (1572864, 64)
    assert load_service(tmp_path, {"pids_limit": -1}).limits.pids is None  # -1: unlimited


def test_a_service_without_later_keys_serializes_as_before(tmp_path: Path) -> None:
    """Digests recorded before these keys existed stay the same (no recreate on upgrade)."""
    dumped = load_service(tmp_path, {"command": ["sleep", "1"]}).model_dump(mode="json")
    assert not {"security_opt", "dns_search", "dns_opt", "group_add", "ipc", "pid", "domainname",
                "oom_score_adj", "cpu_shares", "mem_reservation"} & set(dumped)


@pytest.mark.parametrize(
    ("policy", "restart"),
    [
        ({"condition": "on-failure", "max_attempts": 2}, "on-failure:2"),
        ({"condition": "on-failure"}, "on-failure"),
        ({"condition": "none"}, "no"),
        ({}, "always"),  # Compose's default condition is any
    ],
)
def test_deploy_restart_policy_is_the_engines_restart_policy(
    tmp_path: Path, policy: dict, restart: str
) -> None:
    service = load_service(tmp_path, {"deploy": {"restart_policy": policy}})
    assert service.restart == restart


def test_restart_policy_delay_is_ignored_with_a_warning(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "compose.yaml").write_text(json.dumps({"services": {"s": {
        "image": "x", "restart": "always",
        "deploy": {"restart_policy": {"condition": "any", "delay": "5s"}}}}}))
    result = load_root(tmp_path)
    assert result.errors == [] and result.stacks["app"].compose.services["s"].restart == "always"
    [warning] = result.warnings
    assert warning.path == "services.s.deploy.restart_policy.delay"


def test_resources_scale_and_units(tmp_path: Path) -> None:
    service = load_service(
        tmp_path,
        {
            "deploy": {
                "replicas": 3,
                "resources": {"limits": {"cpus": "0.5", "memory": "512m", "pids": 100}},
            },
            "shm_size": "1gb",
            "stop_grace_period": "1m",
            "ulimits": {"nofile": {"soft": 1024, "hard": 2048}, "nproc": 512},
        },
    )
    assert service.replicas == 3
    assert (service.limits.cpus, service.limits.memory, service.limits.pids) == (
        0.5,
        512 * 2**20,
        100,
    )
    assert (service.shm_size, service.stop_grace_period) == (2**30, 60_000_000_000)
    assert dump(service.ulimits["nproc"]) == {"soft": 512, "hard": 512}
    legacy = load_service(tmp_path, {"scale": 2, "mem_limit": "1.5G", "cpus": 2})
    assert (legacy.replicas, legacy.limits.memory, legacy.limits.cpus) == (2, 1610612736, 2.0)


def test_many_more_service_keys(tmp_path: Path) -> None:
    service = load_service(
        tmp_path,
        {
            "container_name": "fixed",
            "hostname": "h",
            "user": "1000",  # a number is refused, as Compose refuses it
            "working_dir": "/w",
            "cap_add": ["NET_ADMIN", "SYS_TIME", "NET_ADMIN"],
            "cap_drop": ["ALL"],
            "privileged": True,
            "read_only": "true",
            "tmpfs": "/run",
            "extra_hosts": ["db:10.0.0.2", "v6=::1"],
            "dns": "1.1.1.1",
            "logging": {"driver": "json-file", "options": {"max-size": "10m", "max-file": 3}},
            "stop_signal": "SIGINT",
            "init": True,
            "pull_policy": "if_not_present",
            "expose": [80, "9000-9001/udp"],
            "sysctls": ["net.core.somaxconn=1024"],
            "tty": True,
            "stdin_open": True,
            "platform": "linux/amd64",
            "restart": "on-failure:3",
        },
    )
    assert service.user == "1000" and service.read_only
    assert service.cap_add == ["NET_ADMIN", "SYS_TIME"]
    assert service.tmpfs == ["/run"] and service.dns == ["1.1.1.1"]
    assert service.extra_hosts == {"db": ["10.0.0.2"], "v6": ["::1"]}
    assert service.logging is not None and service.logging.options == {
        "max-file": "3",
        "max-size": "10m",
    }
    assert service.pull_policy == "missing"
    assert service.expose == ["80/tcp", "9000-9001/udp"]
    assert service.sysctls == {"net.core.somaxconn": "1024"}
    assert service.restart == "on-failure:3"


def test_extra_hosts_map_form_equals_list_form(tmp_path: Path) -> None:
    a = load_service(tmp_path, {"extra_hosts": ["db:10.0.0.2", "db:10.0.0.3"]})
    b = load_service(tmp_path, {"extra_hosts": {"db": ["10.0.0.2", "10.0.0.3"]}})
    assert a.extra_hosts == b.extra_hosts == {"db": ["10.0.0.2", "10.0.0.3"]}


def test_networks_aliases_and_top_level_networks(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        services:
          s:
            image: x
            networks:
              front: {aliases: [web, www, web], ipv4_address: 10.1.0.5, priority: 10}
              back:
        networks:
          front:
            driver: bridge
            ipam: {config: [{subnet: 10.1.0.0/16}]}
            labels: [tier=front]
          back: {internal: true, name: shared-back}
          outside: {external: true}
        volumes:
          data: {driver_opts: {type: none, o: bind, device: /srv}}
          ext: {external: true, name: real}
        """
    )
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "compose.yaml").write_text(text)
    compose = load_root(tmp_path).stacks["app"].compose
    front = compose.services["s"].networks["front"]
    assert (front.aliases, front.ipv4_address, front.priority) == (["web", "www"], "10.1.0.5", 10)
    assert compose.networks["front"].name == "app_front"
    assert compose.networks["front"].labels == {"tier": "front"}
    assert compose.networks["front"].ipam.config[0].subnet == "10.1.0.0/16"
    assert compose.networks["back"].name == "shared-back" and compose.networks["back"].internal
    assert compose.networks["outside"].name == "outside" and compose.networks["outside"].external
    assert "default" not in compose.networks  # no service uses it
    assert compose.volumes["data"].name == "app_data"
    assert compose.volumes["data"].driver_opts == {"type": "none", "o": "bind", "device": "/srv"}
    assert (compose.volumes["ext"].name, compose.volumes["ext"].external) == ("real", True)


def test_secrets_and_configs_from_file_environment_and_content(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "cert.pem").write_bytes(b"CERT")
    doc = {
        "services": {
            "s": {
                "image": "x",
                "secrets": ["cert", {"source": "token", "target": "tok", "mode": "0400"}],
                "configs": [{"source": "conf", "target": "/etc/app.conf"}, "inline"],
            }
        },
        "secrets": {"cert": {"file": "./cert.pem"}, "token": {"environment": "TOKEN"}},
        "configs": {"conf": {"content": "level=${LEVEL:-info}"}, "inline": {"content": "x"}},
    }
    (folder / "compose.yaml").write_text(yaml.safe_dump(doc))
    (folder / ".env").write_text("TOKEN=t0k3n\n")
    stack = load_root(tmp_path).stacks["app"]
    compose = stack.compose
    service = compose.services["s"]
    assert [(s.source, s.target, s.mode) for s in service.secrets] == [
        ("cert", "/run/secrets/cert", None),
        ("token", "/run/secrets/tok", 0o400),
    ]
    assert [(c.source, c.target) for c in service.configs] == [
        ("conf", "/etc/app.conf"),
        ("inline", "/inline"),
    ]
    assert stack.files[compose.secrets["token"].sha256] == b"t0k3n"
    assert stack.files[compose.configs["conf"].sha256] == b"level=info"
    assert service.secrets[0].sha256 == compose.secrets["cert"].sha256
    assert compose.secrets["token"].origin == "environment"


def test_network_mode_service_adds_an_implicit_dependency(tmp_path: Path) -> None:
    doc = {"services": {"vpn": {"image": "v"}, "s": {"image": "x", "network_mode": "service:vpn"}}}
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "compose.yaml").write_text(json.dumps(doc))
    service = load_root(tmp_path).stacks["app"].compose.services["s"]
    assert service.networks == {} and list(service.depends_on) == ["vpn"]
