"""The Swarm planner and its specs, as a table: desired stack + SwarmSnapshot -> steps.
No engine."""

from __future__ import annotations

from pathlib import Path

from helpers.stacks import desired_stack

from controller.backends.docker.planner import StepKind
from controller.backends.docker.problems import swarm_only_problems
from controller.backends.swarm.planner.service_spec import (
    SPEC_HASH_LABEL,
    file_object_name,
    service_spec,
    swarm_problems,
)
from controller.backends.swarm.planner.stack import swarm_plan, swarm_teardown
from controller.models.swarm import ObservedObject, ObservedService, SwarmSnapshot

SWARM = {"target": {"engine": "prod"}}


def stack(tmp: Path, compose: dict, name: str = "shop"):
    return desired_stack(tmp, name, compose, **SWARM)


def running(desired, key: str, *, spec_of=None, version: int = 7, **extra) -> ObservedService:
    spec = service_spec(spec_of or desired, key)
    return ObservedService(
        id=f"id-{key}",
        name=spec["Name"],
        service=key,
        version=version,
        spec_hash=spec["Labels"][SPEC_HASH_LABEL],
        image=spec["TaskTemplate"]["ContainerSpec"]["Image"],
        replicas=spec["Mode"].get("Replicated", {}).get("Replicas"),
        **extra,
    )


def converged(desired, *services: ObservedService, secrets=(), configs=()) -> SwarmSnapshot:
    networks = tuple(
        ObservedObject(f"n-{n.name}", n.name) for n in desired.compose.networks.values()
    )
    return SwarmSnapshot(
        stack=desired.name,
        services=services,
        networks=networks,
        secrets=tuple(ObservedObject(f"s-{n}", n) for n in secrets),
        configs=tuple(ObservedObject(f"c-{n}", n) for n in configs),
    )


def steps(the_plan):
    return [(s.kind.value, s.target, s.reason) for s in the_plan.steps]


def test_a_new_stack_creates_its_network_then_services_level_by_level(tmp_path):
    d = stack(tmp_path, {"services": {
        "db": {"image": "db:1"},
        "web": {"image": "web:1", "depends_on": {"db": {"condition": "service_healthy"}}},
    }})  # fmt: skip
    p = swarm_plan(d, SwarmSnapshot(stack="shop"))
    assert steps(p) == [
        ("create_network", "shop_default", "missing (overlay)"),
        ("create_service", "shop_db", "not running"),
        ("wait", "db", "every task running"),
        ("create_service", "shop_web", "not running"),
        ("wait", "web", "every task running"),
    ]
    assert [s.level for s in p.steps if s.service in ("db", "web")] == [0, 0, 1, 1]
    assert p.steps[2].condition == "service_healthy"  # what web asks of db


def test_what_runs_as_declared_is_an_empty_plan(tmp_path):
    d = stack(tmp_path, {"services": {"web": {"image": "web:1"}, "db": {"image": "db:1"}}})
    p = swarm_plan(d, converged(d, running(d, "db"), running(d, "web")))
    assert p.in_sync and p.steps == ()


def test_one_changed_service_is_updated_with_the_observed_version_and_says_why(tmp_path):
    old = stack(tmp_path / "a", {"services": {"web": {"image": "web:1"}, "db": {"image": "db:1"}}})
    new = stack(tmp_path / "b", {"services": {"web": {"image": "web:2"}, "db": {"image": "db:1"}}})
    p = swarm_plan(new, converged(new, running(new, "db"), running(old, "web", version=42)),
                   previous=old)  # fmt: skip
    assert steps(p) == [
        ("update_service", "shop_web", "image changed"),
        ("wait", "web", "every task running"),
    ]
    assert (p.steps[0].object_id, p.steps[0].object_version) == ("id-web", 42)


def test_reasons_name_replicas_environment_and_a_change_made_outside(tmp_path):
    old = stack(tmp_path / "a", {"services": {"web": {"image": "w", "environment": {"A": "1"}}}})
    new = stack(tmp_path / "b", {"services": {
        "web": {"image": "w", "environment": {"A": "2"}, "deploy": {"replicas": 3}}}})  # fmt: skip
    p = swarm_plan(new, converged(new, running(old, "web")), previous=old)
    assert p.steps[0].reason == "environment changed, replicas 1 -> 3"
    stranger = ObservedService("id-web", "shop_web", "web", 3, "0" * 64, "w", 1)
    p = swarm_plan(new, converged(new, stranger), previous=old)
    assert p.steps[0].reason.startswith("changed outside stackctl")


def test_an_update_swarm_rolled_back_is_tried_again_saying_so(tmp_path):
    d = stack(tmp_path, {"services": {"web": {"image": "web:1"}}})
    rolled = running(d, "web", update_state="paused", update_message="update paused due to failure")
    p = swarm_plan(d, converged(d, rolled))
    assert p.steps[0].kind is StepKind.UPDATE_SERVICE
    assert "paused: update paused due to failure" in p.steps[0].reason


def test_secrets_have_content_hashed_names_and_old_ones_are_removed_last(tmp_path):
    (tmp_path / "manifests-shop").mkdir()
    (tmp_path / "manifests-shop" / "token.txt").write_text("two")
    d = stack(tmp_path, {
        "services": {"web": {"image": "w", "secrets": ["token"]}},
        "secrets": {"token": {"file": "./token.txt"}},
    })  # fmt: skip
    name = file_object_name("shop", "token", d.compose.secrets["token"])
    assert name.startswith("shop_token_") and len(name) == len("shop_token_") + 12
    old_name = "shop_token_000000000000"
    observed = converged(d, running(d, "web", spec_of=d), secrets=[old_name])
    observed = SwarmSnapshot(**{**observed.__dict__, "services": ()})
    p = swarm_plan(d, observed)
    kinds = [s.kind for s in p.steps]
    assert kinds == [StepKind.CREATE_SECRET, StepKind.CREATE_SERVICE, StepKind.WAIT,
                     StepKind.REMOVE_SECRET]  # fmt: skip
    assert p.steps[0].target == name and p.steps[-1].target == old_name
    spec = service_spec(d, "web")
    assert spec["TaskTemplate"]["ContainerSpec"]["Secrets"][0]["SecretName"] == name


def test_changing_a_secrets_content_changes_the_services_spec(tmp_path):
    specs = []
    for content in ("one", "two"):
        folder = tmp_path / content
        (folder / "manifests-shop").mkdir(parents=True)
        (folder / "manifests-shop" / "token.txt").write_text(content)
        d = stack(folder, {
            "services": {"web": {"image": "w", "secrets": ["token"]}},
            "secrets": {"token": {"file": "./token.txt"}},
        })  # fmt: skip
        specs.append(service_spec(d, "web")["Labels"][SPEC_HASH_LABEL])
    assert specs[0] != specs[1]


def test_services_no_longer_declared_are_removed(tmp_path):
    old = stack(tmp_path / "a", {"services": {"web": {"image": "w"}, "gone": {"image": "g"}}})
    new = stack(tmp_path / "b", {"services": {"web": {"image": "w"}}})
    p = swarm_plan(new, converged(new, running(new, "web"), running(old, "gone")))
    assert steps(p) == [("remove_service", "shop_gone", "no longer declared")]


def test_teardown_removes_services_then_objects(tmp_path):
    d = stack(tmp_path, {"services": {"web": {"image": "w"}}})
    p = swarm_teardown(converged(d, running(d, "web"), secrets=["shop_s_1"], configs=["shop_c_1"]))
    assert [s.kind.value for s in p.steps] == [
        "remove_service", "remove_secret", "remove_config", "remove_network",
    ]  # fmt: skip


def test_the_spec_carries_the_swarm_keys(tmp_path):
    d = stack(tmp_path, {"services": {"web": {
        "image": "w",
        "command": ["httpd", "-f"],
        "entrypoint": ["/bin/sh", "-c"],
        "restart": "on-failure:3",
        "ports": [{"target": 8080, "published": 18080, "mode": "host"}],
        "deploy": {
            "mode": "global",
            "endpoint_mode": "dnsrr",
            "labels": {"team": "a"},
            "placement": {"constraints": ["node.role == manager"],
                          "preferences": [{"spread": "node.labels.zone"}],
                          "max_replicas_per_node": 2},
            "update_config": {"parallelism": 2, "delay": "1s", "failure_action": "rollback",
                              "order": "start-first", "monitor": "5s"},
            "rollback_config": {"parallelism": 0},
        },
    }}})  # fmt: skip
    spec = service_spec(d, "web")
    task = spec["TaskTemplate"]
    assert spec["Name"] == "shop_web"
    assert spec["Mode"] == {"Global": {}}
    assert spec["EndpointSpec"] == {
        "Mode": "dnsrr",
        "Ports": [{"Protocol": "tcp", "TargetPort": 8080, "PublishMode": "host",
                   "PublishedPort": 18080}],
    }  # fmt: skip
    assert task["ContainerSpec"]["Command"] == ["/bin/sh", "-c"]
    assert task["ContainerSpec"]["Args"] == ["httpd", "-f"]
    assert task["RestartPolicy"] == {"Condition": "on-failure", "MaxAttempts": 3}
    assert task["Placement"] == {
        "Constraints": ["node.role == manager"],
        "Preferences": [{"Spread": {"SpreadDescriptor": "node.labels.zone"}}],
        "MaxReplicas": 2,
    }
    assert spec["UpdateConfig"] == {
        "Parallelism": 2, "Delay": 1_000_000_000, "FailureAction": "rollback",
        "Monitor": 5_000_000_000, "Order": "start-first",
    }  # fmt: skip
    assert spec["RollbackConfig"] == {"Parallelism": 0}
    assert spec["Labels"]["team"] == "a"
    assert spec["Labels"]["com.docker.stack.namespace"] == "shop"
    assert task["Networks"] == [{"Target": "shop_default", "Aliases": ["web"]}]
    assert swarm_problems(d) == []


def test_what_a_swarm_cannot_carry_out_is_refused_by_key(tmp_path):
    (tmp_path / "manifests-shop" / "ctx").mkdir(parents=True)
    (tmp_path / "manifests-shop" / "ctx" / "Dockerfile").write_text("FROM scratch\n")
    d = stack(tmp_path, {"services": {"web": {
        "build": {"context": "./ctx"},
        "container_name": "web",
        "volumes": ["./data:/data"],
        "ports": ["127.0.0.1:8080:80"],
        "privileged": True,
    }}})  # fmt: skip
    problems = swarm_problems(d)
    assert any(p.startswith("services.web.build: not carried out on a Swarm") for p in problems)
    assert any(p.startswith("services.web.container_name: not carried out") for p in problems)
    assert any(p.startswith("services.web.privileged:") for p in problems)
    assert any("services.web.volumes (/data): a bind of 'data'" in p for p in problems)
    assert any("host_ip 127.0.0.1" in p for p in problems)
    assert swarm_plan(d, SwarmSnapshot(stack="shop")).problems


def test_swarm_only_keys_are_refused_on_a_docker_engine(tmp_path):
    placement = {"placement": {"constraints": ["node.role == manager"]}}
    d = desired_stack(tmp_path, "shop", {"services": {"web": {"image": "w", "deploy": placement}}})
    assert swarm_only_problems(d) == [
        "services.web.deploy.placement: only a Swarm engine carries it out"
        " (this stack runs on engine 'local', a Docker engine)"
    ]
    plain = desired_stack(tmp_path, "plain", {"services": {"web": {"image": "w"}}})
    assert swarm_only_problems(plain) == []


def test_settings_a_swarm_would_drop_are_refused_not_dropped(tmp_path):
    d = stack(tmp_path, {"services": {"web": {
        "image": "w",
        "tmpfs": ["/run:size=64m"],
        "healthcheck": {"test": ["CMD", "true"], "start_interval": "1s"},
        "volumes": [{"type": "volume", "source": "data", "target": "/data",
                     "volume": {"subpath": "x"}}],
        "networks": {"default": {"priority": 5}},
    }}, "volumes": {"data": {}}})  # fmt: skip
    problems = swarm_problems(d)
    assert "services.web.tmpfs (/run:size=64m): options are not carried out on a Swarm" in (
        " ".join(problems)
    )
    assert any(p.startswith("services.web.healthcheck.start_interval:") for p in problems)
    assert any("volume.subpath" in p for p in problems)
    assert any(p.startswith("services.web.networks.default.priority:") for p in problems)


def test_a_rollback_to_what_is_declared_now_is_in_sync_and_healthy(tmp_path):
    """The manifest was reverted to the spec Swarm rolled back to: nothing to update, and the
    old rollback is no failure any more (it is while the running spec is not the declared)."""
    from controller.backends.swarm.health import assess_swarm_health
    from controller.models.swarm import ObservedTask

    d = stack(tmp_path, {"services": {"web": {"image": "web:1"}}})
    spec = service_spec(d, "web")
    task = ObservedTask("t1", 1, "n1", "running", "running", template="tpl")
    rolled = running(
        d, "web", update_state="rollback_completed", update_message="done", template="tpl",
        tasks=(task,),
    )  # fmt: skip
    assert swarm_plan(d, converged(d, rolled)).in_sync
    assert assess_swarm_health(d, converged(d, rolled))[0].value == "Healthy"
    other = ObservedService(**{**rolled.__dict__, "spec_hash": "0" * 64})
    health, why = assess_swarm_health(d, converged(d, other))
    assert health.value == "Degraded" and "rollback_completed" in why
    assert spec["Labels"][SPEC_HASH_LABEL] == rolled.spec_hash
