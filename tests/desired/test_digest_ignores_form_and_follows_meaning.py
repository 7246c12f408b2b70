"""Property tests: the digest ignores how a stack is written and follows what it means.

A random stack (its meaning) is rendered to YAML in random ways: key order, short or long
syntax (ports, volumes, environment, depends_on, labels), flow or block style, quoting, and
comments. Every rendering must give the same digest; any change of meaning (a port, an env
value, the content of a referenced file) must change it.
"""

from __future__ import annotations

import random
import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.desired import DesiredStack
from controller.sources.loader import load_root

NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=6)
VALUES = st.text(alphabet="abcXYZ019_-./ ", min_size=0, max_size=12)


@dataclass(frozen=True)
class Port:
    target: int
    published: int | None
    host_ip: str | None
    protocol: str


@dataclass(frozen=True)
class Vol:
    kind: str  # "bind" or "volume"
    source: str
    target: str
    read_only: bool


@dataclass(frozen=True)
class Svc:
    image: str
    ports: tuple[Port, ...]
    env: tuple[tuple[str, str], ...]
    labels: tuple[tuple[str, str], ...]
    depends_on: tuple[str, ...]
    volumes: tuple[Vol, ...]
    uses_config: bool


@dataclass(frozen=True)
class Meaning:
    services: tuple[tuple[str, Svc], ...]
    config_content: str = "level=info\n"


ports = st.builds(
    Port,
    target=st.integers(1, 65535),
    published=st.one_of(st.none(), st.integers(1, 65535)),
    host_ip=st.sampled_from([None, "127.0.0.1", "0.0.0.0"]),
    protocol=st.sampled_from(["tcp", "udp"]),
)


@st.composite
def meanings(draw: st.DrawFn) -> Meaning:
    names = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
    services = []
    for i, name in enumerate(names):
        targets = draw(st.lists(NAMES, max_size=3, unique=True))
        volumes = tuple(
            Vol(
                kind=draw(st.sampled_from(["bind", "volume"])),
                source=draw(NAMES),
                target=f"/mnt/{t}",
                read_only=draw(st.booleans()),
            )
            for t in targets
        )
        services.append(
            (
                name,
                Svc(
                    image=f"img-{draw(NAMES)}:{draw(st.integers(0, 9))}",
                    ports=tuple(draw(st.lists(ports, max_size=3))),
                    env=tuple(
                        draw(st.dictionaries(NAMES.map(str.upper), VALUES, max_size=3)).items()
                    ),
                    labels=tuple(draw(st.dictionaries(NAMES, VALUES, max_size=2)).items()),
                    depends_on=tuple(draw(st.lists(st.sampled_from(names[:i]), unique=True)))
                    if i
                    else (),
                    volumes=volumes,
                    uses_config=draw(st.booleans()),
                ),
            )
        )
    return Meaning(services=tuple(services))


# ---- rendering ------------------------------------------------------------------------------

_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./:-]*$")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}


def scalar(value: Any, rnd: random.Random, *, flow: bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    plain_ok = (
        _PLAIN.match(value) and value.lower() not in _RESERVED and not (flow and ":" in value)
    )
    style = rnd.choice(["plain", "single", "double"] if plain_ok else ["single", "double"])
    if style == "plain":
        return value
    if style == "single":
        return "'" + value.replace("'", "''") + "'"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def flow(value: Any, rnd: random.Random) -> str:
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return "{" + ", ".join(f"{k}: {flow(v, rnd)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v, rnd) for v in value) + "]"
    return scalar(value, rnd, flow=True)


def block(value: Any, rnd: random.Random, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        for key, item in items:
            if rnd.random() < 0.2:
                lines.append(f"{pad}# a comment about {key}")
            lines.extend(_entry(f"{pad}{key}:", item, rnd, indent))
    else:
        for item in value:
            lines.extend(_entry(f"{pad}-", item, rnd, indent))
    return lines


def _entry(head: str, item: Any, rnd: random.Random, indent: int) -> list[str]:
    if isinstance(item, dict | list) and item and rnd.random() < 0.6:
        return [head, *block(item, rnd, indent + 2)]
    if isinstance(item, dict | list):
        return [f"{head} {flow(item, rnd)}"]
    comment = "  # trailing" if rnd.random() < 0.2 else ""
    return [f"{head} {scalar(item, rnd, flow=False)}{comment}"]


def port_form(port: Port, rnd: random.Random) -> Any:
    if rnd.random() < 0.5:
        text = str(port.target)
        if port.published is not None:
            text = f"{port.published}:{text}"
        if port.host_ip is not None:
            text = (
                f"{port.host_ip}:{'' if port.published is None else port.published}:{port.target}"
            )
        if port.protocol != "tcp" or rnd.random() < 0.3:
            text += f"/{port.protocol}"
        return text if ":" in text or "/" in text or rnd.random() < 0.5 else port.target
    long: dict[str, Any] = {"target": port.target}
    if port.published is not None:
        long["published"] = rnd.choice([port.published, str(port.published)])
    if port.host_ip is not None:
        long["host_ip"] = port.host_ip
    if port.protocol != "tcp" or rnd.random() < 0.5:
        long["protocol"] = port.protocol
    return long


def volume_form(vol: Vol, rnd: random.Random) -> Any:
    source = f"./{vol.source}" if vol.kind == "bind" else vol.source
    if rnd.random() < 0.5:
        return f"{source}:{vol.target}" + (":ro" if vol.read_only else rnd.choice(["", ":rw"]))
    long: dict[str, Any] = {"type": vol.kind, "source": source, "target": vol.target}
    if vol.read_only or rnd.random() < 0.3:
        long["read_only"] = vol.read_only
    if vol.kind == "bind":
        long["bind"] = {"create_host_path": True}  # what the short syntax implies
    return long


def render(meaning: Meaning, seed: int) -> str:
    rnd = random.Random(seed)
    services: dict[str, Any] = {}
    volumes: dict[str, Any] = {}
    for name, svc in meaning.services:
        spec: dict[str, Any] = {"image": svc.image}
        if svc.ports or rnd.random() < 0.2:
            spec["ports"] = [port_form(p, rnd) for p in svc.ports]
        if svc.env:
            env = dict(svc.env)
            spec["environment"] = (
                env if rnd.random() < 0.5 else [f"{k}={v}" for k, v in env.items()]
            )
        if svc.labels:
            labels = dict(svc.labels)
            spec["labels"] = (
                labels if rnd.random() < 0.5 else [f"{k}={v}" for k, v in labels.items()]
            )
        if svc.depends_on:
            spec["depends_on"] = (
                list(svc.depends_on)
                if rnd.random() < 0.5
                else {d: {"condition": "service_started"} for d in svc.depends_on}
            )
        if svc.volumes:
            spec["volumes"] = [volume_form(v, rnd) for v in svc.volumes]
            volumes.update({v.source: {} for v in svc.volumes if v.kind == "volume"})
        if svc.uses_config:
            spec["configs"] = rnd.choice(
                [["conf"], [{"source": "conf"}], [{"source": "conf", "target": "/conf"}]]
            )
        if rnd.random() < 0.3:
            spec["x-note"] = "extension"
        services[name] = spec
    doc: dict[str, Any] = {"services": services, "configs": {"conf": {"file": "./app.conf"}}}
    if volumes:
        doc["volumes"] = volumes
    if rnd.random() < 0.3:
        doc["version"] = "3.9"
    return "# generated\n" + "\n".join(block(doc, rnd, 0)) + "\n"


def load(meaning: Meaning, text: str) -> DesiredStack:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "app"
        folder.mkdir()
        (folder / "compose.yaml").write_text(text)
        (folder / "app.conf").write_text(meaning.config_content)
        result = load_root(Path(tmp))
    assert result.errors == [], [e.render() for e in result.errors] + [text]
    return result.stacks["app"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(meanings(), st.integers(0, 2**32), st.integers(0, 2**32))
def test_form_never_changes_the_digest(meaning: Meaning, seed_a: int, seed_b: int) -> None:
    a = load(meaning, render(meaning, seed_a))
    b = load(meaning, render(meaning, seed_b))
    assert a.digest == b.digest
    assert a.service_hashes == b.service_hashes


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(meanings(), st.integers(0, 2**32), st.data())
def test_any_change_of_meaning_changes_the_digest(
    meaning: Meaning, seed: int, data: st.DataObject
) -> None:
    base = load(meaning, render(meaning, seed))
    index = data.draw(st.integers(0, len(meaning.services) - 1))
    name, svc = meaning.services[index]
    change = data.draw(st.sampled_from(["image", "env", "port", "file"]))
    if change == "image":
        svc = replace(svc, image=svc.image + "x")
    elif change == "env":
        env = dict(svc.env)
        key = next(iter(env), "NEW")
        env[key] = env.get(key, "") + "!"
        svc = replace(svc, env=tuple(env.items()))
    elif change == "port":
        new_port = Port(
            target=data.draw(st.integers(1, 65535)), published=None, host_ip=None, protocol="sctp"
        )
        svc = replace(svc, ports=(*svc.ports, new_port))
    else:
        svc = replace(svc, uses_config=True)
        meaning = replace(meaning, config_content=meaning.config_content + "# changed\n")
    changed = replace(
        meaning, services=tuple((n, svc if n == name else s) for n, s in meaning.services)
    )
    other = load(changed, render(changed, seed))
    assert other.digest != base.digest
    assert other.service_hashes[name] != base.service_hashes[name]


def test_a_referenced_file_change_changes_digest_and_config_hash(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "compose.yaml").write_text(
        "services:\n  a: {image: x, env_file: a.env, configs: [c]}\n  b: {image: y}\n"
        "configs:\n  c: {file: c.txt}\n"
    )
    (folder / "a.env").write_text("A=1\n")
    (folder / "c.txt").write_text("one")
    first = load_root(tmp_path).stacks["app"]
    (folder / "c.txt").write_text("two")
    second = load_root(tmp_path).stacks["app"]
    (folder / "a.env").write_text("A=1\n# a comment only\n")
    third = load_root(tmp_path).stacks["app"]
    assert len({first.digest, second.digest, third.digest}) == 3
    assert first.service_hashes["a"] != second.service_hashes["a"] != third.service_hashes["a"]
    assert first.service_hashes["b"] == second.service_hashes["b"] == third.service_hashes["b"]


def test_scale_and_dependencies_do_not_change_the_config_hash(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    compose = folder / "compose.yaml"
    compose.write_text("services:\n  a: {image: x}\n  db: {image: y}\n")
    first = load_root(tmp_path).stacks["app"]
    compose.write_text(
        "services:\n  a: {image: x, scale: 3, depends_on: [db], pull_policy: always}\n"
        "  db: {image: y}\n"
    )
    second = load_root(tmp_path).stacks["app"]
    assert first.digest != second.digest
    assert first.service_hashes == second.service_hashes
