"""Values Compose (or the engine, at container creation) refuses are refused when loading, each
with file, line and key path (issue 9, item 9)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from controller.sources.loader import load_root
from controller.sources.loader.references import reference_problem


def compose(root: Path, text: str) -> Path:
    (root / "app").mkdir(parents=True, exist_ok=True)
    (root / "app" / "compose.yaml").write_text(text)
    return root


def web(extra: str, image: str = "nginx") -> str:
    return f"services:\n  web:\n    image: {image}\n{extra}"


# name -> (compose file, line, key path, a word of the message)
REFUSED: dict[str, tuple[str, int, str, str]] = {
    "name_with_a_newline": ('name: "shop\\n"\n' + web(""), 1, "name", "stack name"),
    "service_name_with_a_newline": (
        'services:\n  "web\\n": {image: nginx}\n', 2, 'services["web\\n"]', "service name",
    ),
    "network_name_with_a_newline": (
        web("") + 'networks:\n  "net\\n": {}\n', 5, 'networks["net\\n"]', "invalid name",
    ),
    "restart_with_a_newline": (web('    restart: "always\\n"\n'), 4, "services.web.restart", "no"),
    "image_number": (web("", image="5"), 3, "services.web.image", "string"),
    "image_bool": (web("", image="true"), 3, "services.web.image", "string"),
    "image_empty": (web("", image='""'), 3, "services.web.image", "empty"),
    "image_blank": (web("", image='"a b"'), 3, "services.web.image", "reference"),
    "image_upper_case": (web("", image="Nginx"), 3, "services.web.image", "lowercase"),
    "image_upper_case_path": (
        web("", image="library/Nginx:1"), 3, "services.web.image", "lowercase",
    ),
    "image_non_ascii": (web("", image="nginé"), 3, "services.web.image", "reference"),
    "image_newline": (web("", image='"nginx\\n"'), 3, "services.web.image", "reference"),
    "image_bad_tag": (web("", image='"nginx:-1"'), 3, "services.web.image", "reference"),
    "image_long_tag": (web("", image="nginx:" + "a" * 129), 3, "services.web.image", "reference"),
    "image_short_digest": (
        web("", image="nginx@sha256:abc"), 3, "services.web.image", "reference",
    ),
    "image_digest_of_the_wrong_length": (
        web("", image="nginx@sha256:" + "a" * 63 + "ab"), 3, "services.web.image", "digest",
    ),
    "image_unknown_digest_algorithm": (
        web("", image="nginx@md5:" + "a" * 32), 3, "services.web.image", "digest",
    ),
    "image_interpolated_to_nothing": (
        web("", image="${IMAGE}"), 3, "services.web.image", "empty",
    ),
    "image_too_long": (web("", image="a" * 256), 3, "services.web.image", "255"),
    "duplicate_container_name": (
        "services:\n  a: {image: x, container_name: same}\n"
        "  b: {image: x, container_name: same}\n",
        3, "services.b.container_name", "`a`",
    ),
    "container_name_with_a_nul": (
        web('    container_name: "a\\0b"\n'), 4, "services.web.container_name", "invalid",
    ),
    "container_name_with_a_slash": (
        web("    container_name: a/b\n"), 4, "services.web.container_name", "invalid",
    ),
    "container_name_of_one_character": (
        web("    container_name: a\n"), 4, "services.web.container_name", "invalid",
    ),
    "host_ip_out_of_range": (
        web('    ports: ["300.1.1.1:80:80"]\n'), 4, "services.web.ports[0]", "300.1.1.1",
    ),
    "host_ip_a_name": (
        web('    ports: ["localhost:80:80"]\n'), 4, "services.web.ports[0]", "IP address",
    ),
    "host_ip_bad_ipv6": (
        web('    ports: ["[::g]:80:80"]\n'), 4, "services.web.ports[0]", "IP address",
    ),
    "host_ip_long_syntax": (
        web("    ports: [{target: 80, host_ip: 1.2.3}]\n"),
        4, "services.web.ports[0].host_ip", "IP address",
    ),
    "command_number": (web("    command: [sleep, 5]\n"), 4, "services.web.command[1]", "string"),
    "command_bool": (web("    command: [echo, true]\n"), 4, "services.web.command[1]", "string"),
    "command_float": (
        web("    command:\n      - sleep\n      - 0.5\n"), 6, "services.web.command[1]", "string",
    ),
    "entrypoint_number": (
        web("    entrypoint: [sh, 1]\n"), 4, "services.web.entrypoint[1]", "string",
    ),
    "healthcheck_test_number": (
        web("    healthcheck:\n      test: [CMD, sleep, 1]\n"),
        5, "services.web.healthcheck.test[2]", "string",
    ),
    "healthcheck_test_bool": (
        web("    healthcheck: {test: [CMD, true]}\n"), 4, "services.web.healthcheck.test[1]",
        "string",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_with_file_line_and_path(tmp_path: Path, case: str) -> None:
    text, line, path, word = REFUSED[case]
    result = load_root(compose(tmp_path, text))
    assert result.stacks == {}, f"{case} was accepted"
    rendered = [e.render() for e in result.errors]
    matching = [e for e in result.errors if e.path == path]
    assert matching, rendered
    error = matching[0]
    assert (error.file, error.line) == ("app/compose.yaml", line), rendered
    assert word.lower() in error.message.lower(), rendered


def test_a_manifest_name_with_a_newline(tmp_path: Path) -> None:
    (tmp_path / "shop.yaml").write_text(
        'apiVersion: stackctl/v1\nkind: Stack\nmetadata: {name: "shop\\n"}\n'
        "spec: {compose: {services: {web: {image: nginx}}}}\n"
    )
    result = load_root(tmp_path)
    assert result.stacks == {}
    [error] = result.errors
    assert (error.line, error.path) == (3, "metadata.name") and "stack name" in error.message


ACCEPTED = [
    "nginx",
    "nginx:1.27",
    "nginx:1.27-alpine",
    "library/nginx",
    "docker.io/library/nginx:latest",
    "localhost/app",
    "localhost:5000/team/app:v1.2_3",
    "Registry.Example.COM/team/app",  # the domain may hold upper case, the path may not
    "registry.example.com:443/a/b/c",
    "[::1]:5000/app",
    "a__b/c.d-e---f",
    "nginx@sha256:" + "a" * 64,
    "nginx:1.27@sha256:" + "0123456789abcdef" * 4,
    "app@sha512:" + "f" * 128,
    "n" * 255,
    "nginx:" + "T" * 128,
]


@pytest.mark.parametrize("image", ACCEPTED)
def test_references_of_the_docker_grammar_are_accepted(tmp_path: Path, image: str) -> None:
    assert reference_problem(image) is None
    result = load_root(compose(tmp_path, web("", image=json.dumps(image))))
    assert result.errors == [] and result.stacks["app"].compose.services["web"].image == image


REJECTED = [
    "",
    " nginx",
    "nginx ",
    "Nginx",
    "nginx:",
    ":tag",
    "nginx::1",
    "/nginx",
    "nginx/",
    "a//b",
    "a/_b",
    "a_/b",
    "a...b",
    "-a",
    "a-",
    "registry.example.com:port/app",
    "nginx@sha256:" + "A" * 64,  # sha256 digests are lower case
    "nginx@sha256:" + "a" * 64 + "@sha256:" + "a" * 64,
    "naïve",
    "nginx\n",
    "n" * 256,
]


@pytest.mark.parametrize("image", REJECTED)
def test_references_outside_the_grammar_are_refused(image: str) -> None:
    assert reference_problem(image) is not None


def test_valid_values_next_to_the_refused_ones_still_load(tmp_path: Path) -> None:
    text = web(
        '    ports: ["127.0.0.1:80:80", "[::1]:81:81", {target: 82, host_ip: "::"}]\n'
        '    command: [sleep, "5"]\n'
        '    entrypoint: "sh -c"\n'
        "    healthcheck: {test: [CMD, wget, -q, localhost]}\n"
        "    container_name: only\n"
        "  other: {image: nginx, container_name: another, restart: always}\n"
    )
    result = load_root(compose(tmp_path, text))
    assert result.errors == [], [e.render() for e in result.errors]
    service = result.stacks["app"].compose.services["web"]
    assert [p.host_ip for p in service.ports] == ["127.0.0.1", "::1", "::"]
    assert service.command == ["sleep", "5"]
