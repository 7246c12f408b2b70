"""The planner, as a table: desired spec + observed snapshot -> steps and reasons. No engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.stacks import desired_stack

from controller.backends.docker.planner import StepKind, dependency_levels, plan, teardown
from controller.models.observed import ObservedContainer, ObservedNetwork, Snapshot

IMG = "img:1"
IMG_ID = "sha256:" + "a" * 64


def web(**extra):
    return {"image": IMG, **extra}


def running(stack, desired, service, number=1, *, state="running", exit_code=0, image=IMG_ID,
            hash_of=None, networks=None):
    return ObservedContainer(
        id=f"id-{service}-{number}",
        name=f"{stack}-{service}-{number}",
        service=service,
        number=number,
        config_hash=(hash_of or desired).service_hashes[service],
        image_id=image,
        state=state,
        exit_code=exit_code,
        networks=frozenset(networks if networks is not None else [f"{stack}_default"]),
    )


def snapshot(stack, *containers, networks=("default",), image_id=IMG_ID):
    return Snapshot(
        stack=stack,
        containers=tuple(containers),
        networks=tuple(ObservedNetwork(f"n-{k}", f"{stack}_{k}", k) for k in networks),
        images={IMG: image_id},
    )


def kinds_and_reasons(p):
    return [(s.kind.value, s.target, s.reason) for s in p.changes]


def test_fresh_stack_creates_network_then_containers(tmp_path: Path):
    d = desired_stack(tmp_path, "shop", {"services": {"web": web()}})
    p = plan(d, Snapshot(stack="shop", images={IMG: IMG_ID}))
    assert kinds_and_reasons(p) == [
        ("create_network", "shop_default", "network default is missing"),
        ("create", "shop-web-1", "new service"),
    ]


def test_observed_equal_to_desired_is_an_empty_plan(tmp_path: Path):
    d = desired_stack(tmp_path, "shop", {"services": {"web": web(), "db": web()}})
    p = plan(d, snapshot("shop", running("shop", d, "web"), running("shop", d, "db")))
    assert p.steps == ()
    assert p.in_sync


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"environment": {"LOG_LEVEL": "debug"}}, "environment LOG_LEVEL changed"),
        ({"ports": ["127.0.0.1:8081:80"]}, "ports changed"),
        ({"command": ["sleep", "5"]}, "command changed"),
    ],
)
def test_changed_service_is_recreated_with_the_reason(tmp_path: Path, change, reason):
    before = desired_stack(tmp_path / "a", "shop", {"services": {
        "web": web(environment={"LOG_LEVEL": "info"}, ports=["127.0.0.1:8080:80"]),
        "db": web()}})
    after_web = {"environment": {"LOG_LEVEL": "info"}, "ports": ["127.0.0.1:8080:80"], **change}
    after = desired_stack(tmp_path / "b", "shop", {"services": {"web": web(**after_web),
                                                                "db": web()}})
    observed = snapshot("shop", running("shop", before, "web"), running("shop", before, "db"))
    p = plan(after, observed, previous=before)
    assert kinds_and_reasons(p) == [("recreate", "shop-web-1", reason)]
    # Without the previous spec the reason still says why, by hash.
    assert plan(after, observed).changes[0].reason.startswith("configuration changed (hash ")


def test_scaling_changes_only_the_replica_count(tmp_path: Path):
    three = desired_stack(tmp_path / "a", "shop", {"services": {"worker": web(scale=3)}})
    two = desired_stack(tmp_path / "b", "shop", {"services": {"worker": web(scale=2)}})
    four = desired_stack(tmp_path / "c", "shop", {"services": {"worker": web(scale=4)}})
    observed = snapshot("shop", *(running("shop", three, "worker", n) for n in (1, 2, 3)))
    assert kinds_and_reasons(plan(two, observed, previous=three)) == [
        ("remove", "shop-worker-3", "replicas 3 -> 2")
    ]
    assert kinds_and_reasons(plan(four, observed, previous=three)) == [
        ("create", "shop-worker-4", "replicas 3 -> 4")
    ]
    assert kinds_and_reasons(plan(four, observed)) == [
        ("create", "shop-worker-4", "replicas 3 -> 4")
    ]


def test_scale_down_removes_highest_numbers_first(tmp_path: Path):
    five = desired_stack(tmp_path / "a", "shop", {"services": {"w": web(scale=5)}})
    two = desired_stack(tmp_path / "b", "shop", {"services": {"w": web(scale=2)}})
    observed = snapshot("shop", *(running("shop", five, "w", n) for n in range(1, 6)))
    assert [s.target for s in plan(two, observed).changes] == ["shop-w-5", "shop-w-4", "shop-w-3"]


def test_removed_service_is_pruned_or_kept(tmp_path: Path):
    both = desired_stack(tmp_path / "a", "shop", {"services": {"web": web(), "cache": web()}})
    grown = desired_stack(tmp_path / "d", "shop", {"services": {"web": web(), "cache": web(),
                                                                "queue": web()}})
    pruned = desired_stack(tmp_path / "b", "shop", {"services": {"web": web()}})
    kept = desired_stack(tmp_path / "c", "shop", {"services": {"web": web()}}, prune=False)
    observed = snapshot("shop", running("shop", both, "web"), running("shop", both, "cache"))
    assert kinds_and_reasons(plan(pruned, observed)) == [
        ("remove", "shop-cache-1", "service no longer in the spec (prune)")
    ]
    assert plan(kept, observed).in_sync
    assert kinds_and_reasons(plan(grown, observed, previous=both)) == [
        ("create", "shop-queue-1", "service added to the spec")
    ]


def test_drift_missing_and_stopped_containers(tmp_path: Path):
    d = desired_stack(tmp_path, "shop", {"services": {"web": web(scale=2), "db": web(
        restart="always")}})
    observed = snapshot("shop", running("shop", d, "web", 1),
                        running("shop", d, "db", state="exited", exit_code=137))
    assert kinds_and_reasons(plan(d, observed, previous=d)) == [
        ("start", "shop-db-1", "container is exited"),
        ("create", "shop-web-2", "container missing"),
    ]


def test_completed_one_shot_job_is_not_restarted(tmp_path: Path):
    d = desired_stack(tmp_path, "shop", {"services": {"migrate": web(command=["true"])}})
    done = snapshot("shop", running("shop", d, "migrate", state="exited", exit_code=0))
    failed = snapshot("shop", running("shop", d, "migrate", state="exited", exit_code=1))
    assert plan(d, done).in_sync
    assert [s.kind for s in plan(d, failed).changes] == [StepKind.START]


def test_image_moved_under_the_tag_recreates(tmp_path: Path):
    d = desired_stack(tmp_path, "shop", {"services": {"web": web()}})
    observed = snapshot("shop", running("shop", d, "web"), image_id="sha256:" + "b" * 64)
    assert kinds_and_reasons(plan(d, observed)) == [
        ("recreate", "shop-web-1", "image changed (aaaaaaaaaaaa -> bbbbbbbbbbbb)")
    ]


def test_missing_image_with_pull_policy_never_is_a_problem_not_a_step(tmp_path: Path):
    d = desired_stack(tmp_path, "shop", {"services": {"web": web(pull_policy="never")}})
    p = plan(d, Snapshot(stack="shop", images={IMG: None}))
    assert p.problems == ("service web: image img:1 is not present and pull_policy is never",)
    assert not p.in_sync


def test_missing_image_is_pulled_first(tmp_path: Path):
    d = desired_stack(tmp_path, "shop", {"services": {"web": web()}})
    p = plan(d, Snapshot(stack="shop", images={IMG: None}))
    assert [s.kind for s in p.changes] == [StepKind.CREATE_NETWORK, StepKind.PULL, StepKind.CREATE]


def test_detached_network_recreates(tmp_path: Path):
    d = desired_stack(tmp_path, "shop", {"services": {"web": web()}})
    observed = snapshot("shop", running("shop", d, "web", networks=[]))
    assert kinds_and_reasons(plan(d, observed)) == [
        ("recreate", "shop-web-1", "not attached to network shop_default")
    ]


def test_dependency_levels_and_waits(tmp_path: Path):
    d = desired_stack(tmp_path, "shop", {"services": {
        "db": web(healthcheck={"test": ["CMD", "true"]}),
        "api": web(depends_on={"db": {"condition": "service_healthy"}}),
        "web": web(depends_on=["api"]),
        "cron": web(),
    }})
    assert dependency_levels(d.compose.services) == [["cron", "db"], ["api"], ["web"]]
    p = plan(d, snapshot("shop", networks=()))
    assert [(s.kind.value, s.target, s.level) for s in p.steps] == [
        ("create_network", "shop_default", 0),
        ("create", "shop-cron-1", 0),
        ("create", "shop-db-1", 0),
        ("wait", "db", 0),
        ("create", "shop-api-1", 1),
        ("wait", "api", 1),
        ("create", "shop-web-1", 2),
    ]
    assert p.steps[3].condition == "service_healthy"
    assert p.steps[3].reason == "api depends on it (service_healthy)"


def test_unchanged_dependencies_produce_no_waits(tmp_path: Path):
    d = desired_stack(tmp_path, "shop", {"services": {"db": web(), "api": web(depends_on=["db"])}})
    p = plan(d, snapshot("shop", running("shop", d, "db"), running("shop", d, "api")))
    assert p.steps == ()


def test_teardown_removes_in_reverse_dependency_order(tmp_path: Path):
    d = desired_stack(tmp_path, "shop", {"services": {"db": web(), "api": web(depends_on=["db"])}})
    observed = snapshot("shop", running("shop", d, "db"), running("shop", d, "api"))
    p = teardown(observed, order=dependency_levels(d.compose.services))
    assert [(s.kind.value, s.target) for s in p.steps] == [
        ("remove", "shop-api-1"), ("remove", "shop-db-1"), ("remove_network", "shop_default")
    ]
