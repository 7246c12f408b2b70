"""The Swarm backend on a real single-node swarm (``swarm_engine``, a dockerd of its own).

The contract's scenarios where they apply to services: create and serve, re-apply with zero
mutating calls, one service changed (only it updated, with Swarm's rolling update), drift (a
service changed by hand is put back), secrets and configs (content-hashed, rotated, the old
ones removed), delete; and what is Swarm's own: an update that fails rolls back and fails the
command with Swarm's message, ``depends_on`` converged one level at a time, keys a Swarm cannot
carry out refused by name before anything runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.harness import Harness, make_harness
from helpers.swarm import exec_in_task

from controller.backends.docker import Engine
from controller.backends.engines import Engines
from controller.backends.swarm.engine import SwarmEngine
from controller.backends.swarm.executor import SwarmApply
from controller.desired.engine_spec import EngineSpec, TlsFiles
from controller.models import CommandStatus, HealthStatus

pytestmark = [pytest.mark.engine, pytest.mark.slow]

TARGET = {"target": {"engine": "prod"}}
WEB = {
    "command": ["httpd", "-f", "-p", "8080", "-h", "/www"],
    "init": True,
    "deploy": {"endpoint_mode": "dnsrr"},  # no IPVS in this kernel: no virtual IPs
}
SLEEPER = {"command": ["sleep", "3600"], "init": True, "deploy": {"endpoint_mode": "dnsrr"}}


@pytest.fixture
def swarm(swarm_engine: Any, tmp_path: Path) -> Iterator[tuple[Harness, SwarmEngine, Any]]:
    spec = EngineSpec(
        name="prod",
        kind="swarm",
        host=swarm_engine.host,
        tls=TlsFiles(ca=swarm_engine.ca, cert=swarm_engine.cert, key=swarm_engine.key),
    )
    engines = Engines({"prod": spec}, local=Engine())
    h = make_harness(tmp_path, engine=engines, wait_timeout=60)
    engine = engines.get("prod")
    assert isinstance(engine, SwarmEngine)
    client = swarm_engine.client()
    yield h, engine, client
    for name in {s.stack_id for s in h.db.stacks.list()}:
        outcome = h.delete(name)
        status = outcome.command.status
        assert status is CommandStatus.DONE, (outcome.error, h.log_messages(outcome))
    h.db.close()
    leftovers = [s.name for s in client.services.list() if s.name.startswith("sw")]
    leftovers += [n.name for n in client.networks.list() if n.name.startswith("sw")]
    leftovers += [s.name for s in client.secrets.list() if s.name.startswith("sw")]
    assert not leftovers, leftovers


def services(client: Any, stack: str) -> dict[str, Any]:
    found = client.services.list(filters={"label": f"com.docker.stack.namespace={stack}"})
    return {s.name: s for s in found}


def task_addresses(client: Any, service: Any, network: str) -> list[str]:
    """The overlay addresses of the service's running tasks on ``network``."""
    tasks = client.api.tasks(filters={"service": service.id, "desired-state": "running"})
    return [
        address.split("/")[0]
        for task in tasks
        if task["Status"]["State"] == "running"
        for attachment in task.get("NetworksAttachments") or []
        if attachment["Network"]["Spec"]["Name"] == network
        for address in attachment["Addresses"]
    ]


def test_create_serve_then_reapply_changes_nothing(swarm, test_images) -> None:
    h, engine, client = swarm
    compose = {"services": {
        "web": {"image": test_images.v1, **WEB, "deploy": {**WEB["deploy"], "replicas": 2}},
        "probe": {"image": test_images.v1, **SLEEPER},
    }}  # fmt: skip
    first = h.apply(h.stack("swa", compose, **TARGET))
    assert first.command.status is CommandStatus.DONE, first.error
    found = services(client, "swa")
    assert set(found) == {"swa_web", "swa_probe"}
    assert len(task_addresses(client, found["swa_web"], "swa_default")) == 2
    # By the compose name (each service's alias, as under Compose) and by each task's address.
    for host in ["web", *task_addresses(client, found["swa_web"], "swa_default")]:
        fetch = f"timeout 5 wget -qO- http://{host}:8080/"
        code, out = exec_in_task(client, found["swa_probe"], fetch)
        assert code == 0 and "stackctl test image 1" in out, (host, out)
    stack = h.db.stacks.require("swa")
    assert stack.health_status is HealthStatus.HEALTHY, stack.last_error
    engine.calls.reset()
    again = h.apply(h.stack("swa", compose, **TARGET))
    assert again.command.status is CommandStatus.DONE, again.error
    assert engine.calls.mutating == 0, engine.calls.counts
    assert any("in sync, nothing to do" in m for m in h.log_messages(again))


def test_changing_one_service_updates_only_it(swarm, test_images) -> None:
    h, _engine, client = swarm
    compose = {"services": {
        "web": {"image": test_images.v1, **WEB},
        "db": {"image": test_images.v1, **SLEEPER},
    }}  # fmt: skip
    assert h.apply(h.stack("swb", compose, **TARGET)).error is None
    before = {n: s.attrs["Version"]["Index"] for n, s in services(client, "swb").items()}
    compose["services"]["web"]["image"] = test_images.v2
    outcome = h.apply(h.stack("swb", compose, **TARGET))
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    after = {n: s.attrs["Version"]["Index"] for n, s in services(client, "swb").items()}
    assert after["swb_db"] == before["swb_db"]
    assert after["swb_web"] > before["swb_web"]
    assert any("update_service swb_web: image changed" in m for m in h.log_messages(outcome))
    web = services(client, "swb")["swb_web"]
    assert web.attrs["UpdateStatus"]["State"] == "completed"
    _code, out = exec_in_task(client, web, f"cat {test_images.version_file}")
    assert out.strip() == "2"


def test_a_service_changed_by_hand_is_put_back(swarm, test_images) -> None:
    h, _engine, client = swarm
    compose = {"services": {"web": {"image": test_images.v1, **SLEEPER}}}
    assert h.apply(h.stack("swc", compose, **TARGET)).error is None
    services(client, "swc")["swc_web"].scale(3)
    outcome = h.reconcile("swc")
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    assert any("changed outside stackctl" in m for m in h.log_messages(outcome))
    web = services(client, "swc")["swc_web"]
    assert web.attrs["Spec"]["Mode"]["Replicated"]["Replicas"] == 1


def test_secrets_and_configs_are_rotated_under_new_names(swarm, test_images, tmp_path) -> None:
    h, _engine, client = swarm
    folder = tmp_path / "manifests-swd"
    folder.mkdir()
    (folder / "token.txt").write_text("one")
    compose = {
        "services": {"web": {
            "image": test_images.v1, **SLEEPER,
            "secrets": ["token"],
            "configs": [{"source": "conf", "target": "/etc/app.conf"}],
        }},
        "secrets": {"token": {"file": "./token.txt"}},
        "configs": {"conf": {"content": "level=1"}},
    }  # fmt: skip
    assert h.apply(h.stack("swd", compose, **TARGET)).error is None
    web = services(client, "swd")["swd_web"]
    assert exec_in_task(client, web, "cat /run/secrets/token")[1] == "one"
    assert exec_in_task(client, web, "cat /etc/app.conf")[1] == "level=1"
    first = {s.name for s in client.secrets.list()}
    (folder / "token.txt").write_text("two")
    outcome = h.apply(h.stack("swd", compose, **TARGET))
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    web = services(client, "swd")["swd_web"]
    assert exec_in_task(client, web, "cat /run/secrets/token")[1] == "two"
    now = {s.name for s in client.secrets.list() if s.name.startswith("swd_")}
    assert len(now) == 1 and not now & first  # a new name; the old one removed
    assert any("remove_secret" in m for m in h.log_messages(outcome))


def test_an_update_swarm_rolls_back_fails_with_swarms_message(swarm, test_images) -> None:
    h, _engine, client = swarm
    good = {"image": test_images.v1, **SLEEPER, "deploy": {
        "endpoint_mode": "dnsrr",
        "update_config": {"failure_action": "rollback", "monitor": "2s"},
    }}  # fmt: skip
    assert h.apply(h.stack("swe", {"services": {"web": good}}, **TARGET)).error is None
    bad = {**good, "command": ["sh", "-c", "exit 3"]}
    outcome = h.apply(h.stack("swe", {"services": {"web": bad}}, **TARGET))
    assert outcome.command.status is CommandStatus.FAILED
    assert "Swarm's update ended rollback_completed" in (outcome.error or "")
    web = services(client, "swe")["swe_web"]
    assert web.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Args"] == ["sleep", "3600"]


def test_depends_on_is_converged_one_level_at_a_time(swarm, test_images) -> None:
    h, _engine, _client = swarm
    compose = {"services": {
        "db": {"image": test_images.v1, **SLEEPER, "healthcheck": {
            "test": ["CMD", "true"], "interval": "1s", "start_period": "0s"}},
        "web": {"image": test_images.v1, **SLEEPER,
                "depends_on": {"db": {"condition": "service_healthy"}}},
    }}  # fmt: skip
    outcome = h.apply(h.stack("swf", compose, **TARGET))
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    steps = [
        re.sub(r" \(\d+\.\d+s\)$", "", m)
        for m in h.log_messages(outcome)
        if m.startswith(("create_", "wait"))
    ]
    assert steps == [
        "create_network swf_default: missing (overlay)",
        "create_service swf_db: not running",
        "wait db: every task running, healthy",
        "create_service swf_web: not running",
        "wait web: every task running",
    ]


def test_what_a_swarm_cannot_carry_out_is_refused_before_anything_runs(
    swarm, test_images
) -> None:
    h, engine, client = swarm
    compose = {"services": {"web": {"image": test_images.v1, **SLEEPER, "container_name": "web1"}}}
    engine.calls.reset()
    outcome = h.apply(h.stack("swg", compose, **TARGET))
    assert outcome.command.status is CommandStatus.FAILED
    assert "swg.yaml: services.web.container_name: not carried out on a Swarm engine" in (
        outcome.error or ""
    )
    assert engine.calls.mutating == 0
    assert services(client, "swg") == {}


def test_delete_removes_services_secrets_and_networks(swarm, test_images, tmp_path) -> None:
    h, _engine, client = swarm
    (tmp_path / "manifests-swh").mkdir()
    (tmp_path / "manifests-swh" / "s.txt").write_text("x")
    compose = {
        "services": {"web": {"image": test_images.v1, **SLEEPER, "secrets": ["s"]}},
        "secrets": {"s": {"file": "./s.txt"}},
    }
    assert h.apply(h.stack("swh", compose, **TARGET)).error is None
    outcome = h.delete("swh")
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    assert services(client, "swh") == {}
    assert [s.name for s in client.secrets.list() if s.name.startswith("swh_")] == []
    assert [n.name for n in client.networks.list() if n.name.startswith("swh_")] == []


def test_an_update_out_of_sequence_is_planned_again(swarm, test_images) -> None:
    """Someone updates the service between our look and our update: Swarm refuses ours as out of
    sequence, and the apply looks again and plans again instead of failing."""
    h, engine, client = swarm
    compose = {"services": {"web": {"image": test_images.v1, **SLEEPER}}}
    assert h.apply(h.stack("swi", compose, **TARGET)).error is None
    compose["services"]["web"]["environment"] = {"LEVEL": "2"}
    desired = h.stack("swi", compose, **TARGET)
    said: list[str] = []

    def meanwhile(the_plan: Any) -> None:  # after our look: the service moves on
        web = services(client, "swi")["swi_web"]
        web.update(labels={**web.attrs["Spec"]["Labels"], "edited": "by hand"})

    apply = SwarmApply(engine, on_step=lambda *a: None, on_progress=said.append, wait_timeout=60)
    applied = apply.converge(desired, previous=None, on_plan=meanwhile)
    assert any("planning again: a service changed meanwhile" in line for line in said), said
    assert applied.health[0] is HealthStatus.HEALTHY, applied.health
    env = services(client, "swi")["swi_web"].attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"]
    assert env == ["LEVEL=2"]


def test_an_update_swarm_paused_is_redone_when_applied_again(swarm, test_images) -> None:
    """``failure_action: pause`` (Swarm's default): the command fails with Swarm's message; the
    next apply of the same spec raises ForceUpdate so that Swarm redoes the update (the same
    spec alone would be a no-op for Swarm) and fails the same way, saying so."""
    h, _engine, client = swarm
    good = {"image": test_images.v1, **SLEEPER, "deploy": {
        "endpoint_mode": "dnsrr",
        "update_config": {"failure_action": "pause", "monitor": "2s"},
    }}  # fmt: skip
    assert h.apply(h.stack("swj", {"services": {"web": good}}, **TARGET)).error is None
    bad = {**good, "command": ["sh", "-c", "exit 3"]}
    first = h.apply(h.stack("swj", {"services": {"web": bad}}, **TARGET))
    assert first.command.status is CommandStatus.FAILED
    assert "Swarm's update ended paused" in (first.error or ""), first.error
    force = services(client, "swj")["swj_web"].attrs["Spec"]["TaskTemplate"].get("ForceUpdate", 0)
    again = h.reconcile("swj")
    assert again.command.status is CommandStatus.FAILED
    assert any("updated again" in m for m in h.log_messages(again)), h.log_messages(again)
    assert "Swarm's update ended paused" in (again.error or ""), again.error
    spec = services(client, "swj")["swj_web"].attrs["Spec"]
    assert spec["TaskTemplate"]["ForceUpdate"] == force + 1


def test_a_failed_apply_rolls_back_automatically_with_spec_rollback(swarm, test_images) -> None:
    """``spec.rollback.onFailure`` on a Swarm stack: v2's update fails (Swarm paused it), the
    controller records v3, a pinned copy of the healthy v1, and its APPLY converges the swarm
    back to v1's spec."""
    h, _engine, client = swarm
    spec = {**TARGET, "rollback": {"onFailure": True}}
    good = {"image": test_images.v1, **SLEEPER, "deploy": {
        "endpoint_mode": "dnsrr", "update_config": {"failure_action": "pause", "monitor": "2s"}}}
    first = h.apply(h.stack("swk", {"services": {"web": good}}, **spec))
    assert first.command.status is CommandStatus.DONE, first.error
    assert h.db.stack_versions.require("swk", "v1").healthy_at is not None
    bad = {**good, "command": ["sh", "-c", "exit 3"]}
    failed = h.apply(h.stack("swk", {"services": {"web": bad}}, **spec))
    assert failed.command.status is CommandStatus.FAILED
    stack = h.db.stacks.require("swk")
    assert (stack.current_version, stack.pinned) == ("v3", True)
    back = h.worker.run_next()
    assert back is not None and back.command.payload["version"] == "v3"
    assert back.command.status is CommandStatus.DONE, back.error
    stack = h.db.stacks.require("swk")
    assert (stack.applied_version, stack.health_status) == ("v3", HealthStatus.HEALTHY)
    web = services(client, "swk")["swk_web"]
    assert web.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Args"] == ["sleep", "3600"]


def test_global_mode_placement_and_update_config_are_carried_out(swarm, test_images) -> None:
    """deploy.mode global, placement (a constraint, a spread preference, max replicas per node),
    update_config and rollback_config reach Swarm's spec; the one node runs one task."""
    h, _engine, client = swarm
    deploy = {
        "mode": "global",
        "endpoint_mode": "dnsrr",
        "placement": {
            "constraints": ["node.role == manager"],
            "preferences": [{"spread": "node.id"}],
        },
        "update_config": {"parallelism": 2, "order": "start-first", "failure_action": "rollback"},
        "rollback_config": {"parallelism": 0, "order": "stop-first"},
        "labels": {"team": "ops"},
    }
    compose = {"services": {"agent": {"image": test_images.v1, **SLEEPER, "deploy": deploy}}}
    outcome = h.apply(h.stack("swl", compose, **TARGET))
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    agent = services(client, "swl")["swl_agent"]
    spec = agent.attrs["Spec"]
    assert spec["Mode"] == {"Global": {}}
    assert spec["TaskTemplate"]["Placement"]["Constraints"] == ["node.role == manager"]
    assert spec["TaskTemplate"]["Placement"]["Preferences"] == [
        {"Spread": {"SpreadDescriptor": "node.id"}}
    ]
    assert spec["UpdateConfig"]["Parallelism"] == 2
    assert spec["UpdateConfig"]["Order"] == "start-first"
    assert spec["UpdateConfig"]["FailureAction"] == "rollback"
    assert spec["RollbackConfig"]["Order"] == "stop-first"
    assert spec["Labels"]["team"] == "ops"
    running = [t for t in agent.tasks() if t["Status"]["State"] == "running"]
    assert len(running) == 1 and running[0].get("Slot") is None  # global: one per node
    assert h.db.stacks.require("swl").health_status is HealthStatus.HEALTHY
