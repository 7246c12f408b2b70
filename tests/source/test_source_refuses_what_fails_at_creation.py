"""Values the loader used to accept and the engine refuses only when it creates the container
or the network are refused when loading, each with file, line and key path (issue 9, item 9):
a NUL byte in any string that reaches the engine, an ``extra_hosts`` address that is not an
IP address, and IPAM or fixed service addresses that are not IP/CIDR strings (``.nan``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.sources.loader import load_root


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def web(extra: str) -> str:
    return "services:\n  web:\n    image: nginx\n" + extra


def net(extra: str, service: str = "") -> str:
    """A service on network `n` (line 5 on: ``service``), then ``networks: n:`` and ``extra``."""
    return (
        "services:\n  web:\n    image: nginx\n    networks:\n"
        + (service or "      n: {}\n")
        + "networks:\n  n:\n"
        + extra
    )


def manifest(spec: str) -> str:
    return f"apiVersion: stackctl/v1\nkind: Stack\nmetadata: {{name: m}}\nspec:\n{spec}"


APP = "app/compose.yaml"

# name -> (files, the file with the error, its line, its key path)
NUL: dict[str, tuple[dict[str, str], str, int, str]] = {
    "environment_value": (
        {APP: web('    environment:\n      A: "x\\0y"\n')}, APP, 5, "services.web.environment.A",
    ),
    "environment_value_list_form": (
        {APP: web('    environment:\n      - B=b\n      - "A=x\\0y"\n')},
        APP, 6, "services.web.environment.A",
    ),
    "environment_key": (
        {APP: web('    environment:\n      "A\\0B": x\n')},
        APP, 5, 'services.web.environment["A\\u0000B"]',
    ),
    "label_value": (
        {APP: web('    labels:\n      team: "a\\0"\n')}, APP, 5, "services.web.labels.team",
    ),
    "label_key": (
        {APP: web('    labels:\n      "a\\0": b\n')}, APP, 5, 'services.web.labels["a\\u0000"]',
    ),
    "working_dir": ({APP: web('    working_dir: "/a\\0"\n')}, APP, 4, "services.web.working_dir"),
    "user": ({APP: web('    user: "10\\x00"\n')}, APP, 4, "services.web.user"),
    "hostname": ({APP: web('    hostname: "h\\u0000"\n')}, APP, 4, "services.web.hostname"),
    "command_item": (
        {APP: web('    command:\n      - echo\n      - "a\\0"\n')}, APP, 6,
        "services.web.command[1]",
    ),
    "command_string": ({APP: web('    command: "echo a\\0"\n')}, APP, 4, "services.web.command[1]"),
    "entrypoint_item": (
        {APP: web('    entrypoint: [sh, "-c\\0"]\n')}, APP, 4, "services.web.entrypoint[1]",
    ),
    "healthcheck_test_item": (
        {APP: web('    healthcheck:\n      test: [CMD, "a\\0"]\n')}, APP, 5,
        "services.web.healthcheck.test[1]",
    ),
    "healthcheck_test_string": (
        {APP: web('    healthcheck:\n      test: "a\\0"\n')}, APP, 5,
        "services.web.healthcheck.test[1]",
    ),
    "extra_hosts_name": (
        {APP: web('    extra_hosts: ["d\\0b:10.0.0.1"]\n')}, APP, 4,
        'services.web.extra_hosts["d\\u0000b"]',
    ),
    "dns": ({APP: web('    dns: ["1.1.1.1\\0"]\n')}, APP, 4, "services.web.dns[0]"),
    "dns_search": ({APP: web('    dns_search: "a\\0"\n')}, APP, 4, "services.web.dns_search[0]"),
    "tmpfs": ({APP: web('    tmpfs: ["/run\\0"]\n')}, APP, 4, "services.web.tmpfs[0]"),
    "sysctl": (
        {APP: web('    sysctls: {net.core.somaxconn: "1\\0"}\n')}, APP, 4,
        "services.web.sysctls[\"net.core.somaxconn\"]",
    ),
    "logging_option": (
        {APP: web('    logging: {driver: json-file, options: {max-size: "1\\0"}}\n')}, APP, 4,
        "services.web.logging.options.max-size",
    ),
    "security_opt": (
        {APP: web('    security_opt: ["label:a\\0"]\n')}, APP, 4, "services.web.security_opt[0]",
    ),
    "stop_signal": (
        {APP: web('    stop_signal: "SIGTERM\\0"\n')}, APP, 4, "services.web.stop_signal",
    ),
    "network_alias": (
        {APP: net("", '      n:\n        aliases: ["a\\0"]\n')}, APP, 6,
        "services.web.networks.n.aliases[0]",
    ),
    "item_of_a_sorted_list": (  # sorted: its canonical index is not the one written
        {APP: web('    cap_add:\n      - SYS_TIME\n      - "NET_ADMIN\\0"\n')},
        APP, 6, "services.web.cap_add[0]",
    ),
    "secret_target": (
        {
            APP: web('    secrets:\n      - {source: s, target: "a\\0"}\n')
            + "secrets:\n  s: {file: s}\n",
            "app/s": "x",
        },
        APP, 5, "services.web.secrets[0].target",
    ),
    "network_name": ({APP: net('    name: "n\\0"\n')}, APP, 8, "networks.n.name"),
    "network_driver": ({APP: net('    driver: "bridge\\0"\n')}, APP, 8, "networks.n.driver"),
    "network_driver_option": (
        {APP: net('    driver_opts:\n      com.docker.network.bridge.name: "br\\0"\n')}, APP, 9,
        'networks.n.driver_opts["com.docker.network.bridge.name"]',
    ),
    "network_driver_option_key": (
        {APP: net('    driver_opts: {"a\\0": b}\n')}, APP, 8,
        'networks.n.driver_opts["a\\u0000"]',
    ),
    "network_label": ({APP: net('    labels: {a: "b\\0"}\n')}, APP, 8, "networks.n.labels.a"),
    "network_ipam_option": (
        {APP: net('    ipam: {driver: default, options: {a: "b\\0"}}\n')}, APP, 8,
        "networks.n.ipam.options.a",
    ),
    "volume_name": (
        {APP: web('volumes:\n  data:\n    name: "d\\0"\n')}, APP, 6, "volumes.data.name",
    ),
    "volume_driver_option": (
        {APP: web('volumes:\n  data:\n    driver_opts: {o: "a\\0"}\n')}, APP, 6,
        "volumes.data.driver_opts.o",
    ),
    "variable_of_a_manifest": (
        {
            "m.yaml": manifest(
                '  env: {X: "a\\0"}\n  compose:\n    services:\n      web:\n'
                "        image: nginx\n        environment: {A: $X}\n"
            )
        },
        "m.yaml", 10, "spec.compose.services.web.environment.A",
    ),
    "variable_expanded_in_an_env_file": (
        {
            "m.yaml": manifest(
                '  env: {X: "a\\0"}\n  compose:\n    services:\n      web:\n'
                "        image: nginx\n        env_file: m.env\n"
            ),
            "m.env": "A=${X}\n",
        },
        "m.yaml", 10, "spec.compose.services.web.environment.A",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(NUL))
def test_a_nul_byte_is_an_error_at_its_key(tmp_path: Path, case: str) -> None:
    files, file, line, path = NUL[case]
    result = load_root(write(tmp_path, {**files, "good/compose.yaml": web("")}))
    assert set(result.stacks) == {"good"}, f"{case} was accepted"
    rendered = [e.render() for e in result.errors]
    matching = [e for e in result.errors if e.path == path]
    assert matching, rendered
    assert len(matching) == 1, rendered  # said once, not again by another check
    error = matching[0]
    assert (error.file, error.line) == (file, line), rendered
    assert "NUL" in error.message, rendered


def test_a_nul_byte_is_reported_beside_the_other_errors_of_the_file(tmp_path: Path) -> None:
    text = web('    labels: {a: "b\\0"}\n  broken:\n    image: 5\n')
    result = load_root(write(tmp_path, {APP: text}))
    assert {e.path for e in result.errors} == {"services.web.labels.a", "services.broken.image"}


def test_every_nul_of_a_file_is_reported(tmp_path: Path) -> None:
    text = (
        web('    environment: ["A=\\0", "B=\\0"]\n    labels: {a: "\\0"}\n')
        + 'networks:\n  n:\n    driver_opts: {a: "\\0"}\n'
    )
    result = load_root(write(tmp_path, {APP: text}))
    assert sorted(e.path for e in result.errors) == [
        "networks.n.driver_opts.a",
        "services.web.environment.A",
        "services.web.environment.B",
        "services.web.labels.a",
    ]


def test_text_that_only_looks_like_a_nul_and_ignored_values_still_load(tmp_path: Path) -> None:
    text = web(
        "    environment: {A: 'x\\0y', B: 'a\\x00'}\n"  # single quotes: a backslash and a 0
        '    x-note: "ignored\\0"\n'  # an extension: Compose ignores it, the engine never sees it
        '  tool:\n    image: nginx\n    profiles: [debug]\n    labels: {a: "\\0"}\n'  # inactive
    )
    result = load_root(write(tmp_path, {APP: text}))
    assert result.errors == [], [e.render() for e in result.errors]
    assert result.stacks["app"].compose.services["web"].environment == {
        "A": "x\\0y",
        "B": "a\\x00",
    }


# name -> (compose file, line, key path, a word of the message)
ADDRESSES: dict[str, tuple[str, int, str, str]] = {
    "extra_host_a_name": (
        web('    extra_hosts: ["db:not-an-ip"]\n'), 4, "services.web.extra_hosts[0]", "IP address",
    ),
    "extra_host_equals_form": (
        web('    extra_hosts: ["db=10.0.0.300"]\n'), 4, "services.web.extra_hosts[0]",
        "IP address",
    ),
    "extra_host_one_of_a_comma_list": (
        web('    extra_hosts: ["db=10.0.0.1,nope"]\n'), 4, "services.web.extra_hosts[0]", "nope",
    ),
    "extra_host_with_a_zone": (
        web('    extra_hosts: ["db:fe80::1%eth0"]\n'), 4, "services.web.extra_hosts[0]", "zone",
    ),
    "extra_host_mapping": (
        web("    extra_hosts:\n      db: 1.2.3\n"), 5, "services.web.extra_hosts.db", "IP address",
    ),
    "extra_host_mapping_number": (
        web("    extra_hosts:\n      db: 5\n"), 5, "services.web.extra_hosts.db",
        "expected a string or a list",  # the Compose schema's words: it is checked first
    ),
    "extra_host_mapping_list": (
        web("    extra_hosts:\n      db:\n        - 10.0.0.1\n        - .nan\n"), 7,
        "services.web.extra_hosts.db[1]", "expected a string",
    ),
    "extra_host_name_with_a_colon": (
        web('    extra_hosts:\n      "a:b": 10.0.0.1\n'), 5, 'services.web.extra_hosts["a:b"]',
        "host name",
    ),
    "ipam_subnet_nan": (
        net("    ipam:\n      config:\n        - subnet: .nan\n"), 10,
        "networks.n.ipam.config[0].subnet", "expected a string",
    ),
    "ipam_subnet_not_cidr": (
        net("    ipam:\n      config:\n        - subnet: 172.28.0.300/16\n"), 10,
        "networks.n.ipam.config[0].subnet", "172.28.0.300/16",
    ),
    "ipam_ip_range_number": (
        net("    ipam:\n      config:\n        - subnet: 172.28.0.0/16\n          ip_range: 5\n"),
        11, "networks.n.ipam.config[0].ip_range", "expected a string",
    ),
    "ipam_gateway_inf": (
        net("    ipam:\n      config:\n        - subnet: 172.28.0.0/16\n          gateway: .inf\n"),
        11, "networks.n.ipam.config[0].gateway", "expected a string",
    ),
    "ipam_gateway_with_a_prefix": (
        net(
            "    ipam:\n      config:\n        - subnet: 172.28.0.0/16\n"
            "          gateway: 172.28.0.1/16\n"
        ),
        11, "networks.n.ipam.config[0].gateway", "IP address",
    ),
    "ipam_gateway_outside_the_subnet": (
        net(
            "    ipam:\n      config:\n        - subnet: 172.28.0.0/16\n"
            "          gateway: 10.0.0.1\n"
        ),
        11, "networks.n.ipam.config[0].gateway", "172.28.0.0/16",
    ),
    "ipam_aux_address_nan": (
        net(
            "    ipam:\n      config:\n        - subnet: 172.28.0.0/16\n"
            "          aux_addresses:\n            host1: .nan\n"
        ),
        12, "networks.n.ipam.config[0].aux_addresses.host1", "expected a string",
    ),
    "service_ipv4_address_nan": (
        net("", "      n:\n        ipv4_address: .nan\n"), 6,
        "services.web.networks.n.ipv4_address", "expected a string",
    ),
    "service_ipv4_address_out_of_range": (
        net("", "      n:\n        ipv4_address: 172.28.0.300\n"), 6,
        "services.web.networks.n.ipv4_address", "IPv4",
    ),
    "service_ipv4_address_of_ipv6": (
        net("", "      n:\n        ipv4_address: '::1'\n"), 6,
        "services.web.networks.n.ipv4_address", "IPv4",
    ),
    "service_ipv6_address_inf": (
        net("", "      n:\n        ipv6_address: .inf\n"), 6,
        "services.web.networks.n.ipv6_address", "expected a string",
    ),
    "service_ipv6_address_of_ipv4": (
        net("", "      n:\n        ipv6_address: 10.0.0.1\n"), 6,
        "services.web.networks.n.ipv6_address", "IPv6",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(ADDRESSES))
def test_an_address_that_is_no_address_is_an_error_at_its_key(tmp_path: Path, case: str) -> None:
    text, line, path, word = ADDRESSES[case]
    result = load_root(write(tmp_path, {APP: text}))
    assert result.stacks == {}, f"{case} was accepted"
    rendered = [e.render() for e in result.errors]
    matching = [e for e in result.errors if e.path == path]
    assert matching, rendered
    error = matching[0]
    assert (error.file, error.line) == (APP, line), rendered
    assert word.lower() in error.message.lower(), rendered


VALID = """\
services:
  web:
    image: nginx
    extra_hosts:
      - "db:10.0.0.2"
      - "v6=::1"
      - "v6b:[::2]"
      - "gw:host-gateway"
      - "spaced: 10.0.0.3"
    environment: {A: "x", B: 'x\\0y'}
    networks:
      n:
        ipv4_address: 172.28.1.5
        ipv6_address: "fd00::5"
  other:
    image: nginx
    extra_hosts:
      db: 10.0.0.2
      gw: host-gateway
      many: [10.0.0.6, "::ffff:10.0.0.7"]
networks:
  n:
    enable_ipv6: true
    ipam:
      config:
        - subnet: 172.28.0.0/16
          ip_range: 172.28.5.0/24
          gateway: 172.28.5.254
          aux_addresses: {host1: 172.28.1.6}
        - subnet: "fd00::/64"
          gateway: "fd00::1"
"""


def test_valid_addresses_load_as_written_and_keep_their_digest(tmp_path: Path) -> None:
    result = load_root(write(tmp_path, {APP: VALID}))
    assert result.errors == [], [e.render() for e in result.errors]
    stack = result.stacks["app"]
    web_service = stack.compose.services["web"]
    assert web_service.extra_hosts == {
        "db": ["10.0.0.2"],
        "v6": ["::1"],
        "v6b": ["[::2]"],
        "gw": ["host-gateway"],
        "spaced": [" 10.0.0.3"],  # the engine trims it
    }
    assert stack.compose.services["other"].extra_hosts["many"] == ["10.0.0.6", "::ffff:10.0.0.7"]
    pool = stack.compose.networks["n"].ipam.config[0]  # type: ignore[union-attr]
    assert (pool.subnet, pool.ip_range, pool.gateway) == (
        "172.28.0.0/16",
        "172.28.5.0/24",
        "172.28.5.254",
    )
    # Pinned before these checks existed: a valid stack keeps its digest (no recreate on upgrade).
    assert stack.digest == PINNED_DIGEST


PINNED_DIGEST = "402720b41a22d10c231d779072601c60969b3931eb424f45e699889ef8e394b9"


def test_a_comma_list_of_addresses_is_one_entry_each_as_in_compose(tmp_path: Path) -> None:
    text = web('    extra_hosts: ["pair=10.0.0.4,10.0.0.5", "pair:10.0.0.6"]\n')
    result = load_root(write(tmp_path, {APP: text}))
    assert result.errors == [], [e.render() for e in result.errors]
    service = result.stacks["app"].compose.services["web"]
    assert service.extra_hosts == {"pair": ["10.0.0.4", "10.0.0.5", "10.0.0.6"]}
