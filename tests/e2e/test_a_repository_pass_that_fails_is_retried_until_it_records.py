"""A repository's pass that fails after a fetch (the commit was fetched, reading it into the
database failed) is run again by the controller itself, with backoff, until it records the pushed
commit: no second push, webhook or fetch is needed; ``/readyz`` names the repository's failing
pass meanwhile (issue 24, item 2, for repository sources).

The fault is real: the database lives on a small tmpfs filled to the last byte, while the
repositories' mirrors and checkouts (``git/`` beside the database) are a bind mount of an
ordinary folder, so the fetch succeeds and only the pass (a version to record) meets "disk full".
One signed push webhook asks for the fetch; the interval is an hour, so no other fetch comes.
No engine answers here (conftest's DOCKER_HOST): ``/readyz`` is 503 for the engine throughout,
and the test reads its ``repositories`` check, over real HTTP to a real ``stackctl run``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers.controller_process import ControllerProcess, wait_for
from helpers.git_servers import Pusher, bare_repo
from helpers.small_disk import SmallDisk, small_disk

pytestmark = pytest.mark.slow


def manifest(greeting: str) -> str:
    return (
        "services:\n  app:\n    image: stackctl-test/busybox:1\n    pull_policy: never\n"
        f"    environment: {{GREETING: {greeting}}}\n"
    )


def signed_push(secret: bytes, payload: dict, *, delivery: str) -> tuple[dict[str, str], bytes]:
    raw = json.dumps(payload).encode()
    return {
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest(),
        "Content-Type": "application/json",
    }, raw


@pytest.fixture
def state(tmp_path: Path) -> Iterator[tuple[SmallDisk, Path]]:
    """The controller's state folder on a small tmpfs, its ``git/`` bound to an ordinary one."""
    with small_disk(tmp_path / "disk", size="16m") as disk:
        state = disk.path / "state"
        (state / "git").mkdir(parents=True)
        mirrors = tmp_path / "mirrors"
        mirrors.mkdir()
        bound = subprocess.run(
            ["mount", "--bind", str(mirrors), str(state / "git")], capture_output=True, text=True
        )
        if bound.returncode != 0:
            pytest.skip(f"cannot bind-mount here: {bound.stderr.strip()}")
        try:
            yield disk, state
        finally:
            subprocess.run(["umount", "-l", str(state / "git")], check=False)


def test_a_pass_failing_after_a_fetch_is_retried_and_readyz_names_the_repository(
    tmp_path: Path, state: tuple[SmallDisk, Path], free_port: int
) -> None:
    disk, folder = state
    served = tmp_path / "served"
    served.mkdir()
    origin = bare_repo(served, "infra.git")
    pusher = Pusher(origin, work=tmp_path / "work")
    pusher.write({"stacks/web.yaml": manifest("one")})
    pusher.commit("one")
    pusher.push()
    secret = tmp_path / "hook-secret"
    secret.write_text("s3cret\n")
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    controller = ControllerProcess(
        manifests,
        folder / "stackctl.db",
        extra=(
            "--api", f"127.0.0.1:{free_port}",
            "--git-url", str(origin), "--git-path", "stacks", "--git-interval", "3600",
            "--git-webhook-secret-file", str(secret),
        ),
    )  # fmt: skip
    controller.log = tmp_path / "controller.log"  # not on the disk about to be full
    controller.start()
    base = f"http://127.0.0.1:{free_port}"

    def latest() -> str | None:
        with controller.db() as db:
            version = db.stack_versions.latest("web")
        return None if version is None else f"{version.version} {version.metadata.git_commit}"

    def repositories_check() -> bool:
        return httpx.get(f"{base}/readyz", timeout=10).json()["repositories"]

    try:
        first = pusher.head()
        wait_for(lambda: latest() == f"v1 {first}", what="v1 recorded from the first fetch")
        assert repositories_check() is True

        disk.fill()
        pusher.write({"stacks/web.yaml": manifest("two")})
        after = pusher.commit("two")
        pusher.push()
        payload = {
            "ref": "refs/heads/main",
            "after": after,
            "repository": {"full_name": "ops/infra", "clone_url": str(origin)},
        }
        headers, raw = signed_push(b"s3cret", payload, delivery="only-one")
        hook = f"{base}/api/v1/hooks/git?repository=default"
        answer = httpx.post(hook, headers=headers, content=raw, timeout=10)
        assert answer.status_code == 202, answer.text

        def failing() -> str | None:
            response = httpx.get(f"{base}/readyz", timeout=10)
            body = response.json()
            return None if response.status_code != 503 or body["repositories"] else body["reason"]

        reason = wait_for(failing, what="/readyz naming the repository's failing pass")
        assert "repositories: default: sync of " in reason and "disk full" in reason, reason
        # It tries again by itself while the disk is full (more than once; the worker and the
        # lease say "disk full" too, so the checkout's own lines are counted).
        checkout = f"{folder}/git/default/current/stacks failed: "
        wait_for(
            lambda: controller.log.read_text().count(checkout) >= 2 and failing(),
            what="a second failed pass of the repository",
        )
        assert latest() == f"v1 {first}"

        disk.free()  # and nothing else: no push, no webhook, no fetch asked
        wait_for(lambda: latest() == f"v2 {after}", what="the pushed commit recorded")
        wait_for(lambda: repositories_check() is True, what="/readyz clear of the repository")
        assert controller.log.read_text().count("fetch asked") == 1
    except AssertionError as e:
        raise AssertionError(f"{e}\n{controller.log.read_text()[-4000:]}") from None
    finally:
        disk.free()
        code = controller.stop()
    assert code == 0, controller.log.read_text()[-3000:]
