"""A real ``stackctl run`` following real git repositories (a bare repository by path, ``git
daemon``, ``sshd`` on 127.0.0.1) and converging a real engine to what is pushed: stacks added,
edited and removed by commits, a force push back, an invalid manifest in a commit, an
unreachable repository, a name two sources declare, and push webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from helpers.controller_process import ControllerProcess, wait_for
from helpers.git_servers import (
    GitDaemon,
    HungServer,
    Pusher,
    SshServer,
    bare_repo,
    processes_mentioning,
)

pytestmark = pytest.mark.engine


def _compose(image: str, *, env: str = "one") -> str:
    return (
        "services:\n"
        "  web:\n"
        f"    image: {image}\n"
        "    pull_policy: never\n"
        "    command: [sleep, '3600']\n"
        f"    environment: {{GREETING: {env}}}\n"
    )


def _port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    served = tmp_path / "served"
    served.mkdir()
    return bare_repo(served, "infra.git")


@pytest.fixture
def pusher(origin: Path, tmp_path: Path) -> Pusher:
    return Pusher(origin, work=tmp_path / "work")


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    path = tmp_path / "manifests"
    path.mkdir()
    return path


@pytest.fixture
def running(tmp_path: Path) -> Iterator[list[ControllerProcess]]:
    """Controllers the test starts; stopped (SIGTERM) whatever happened."""
    started: list[ControllerProcess] = []
    yield started
    for controller in started:
        if controller.proc is not None and controller.proc.poll() is None:
            controller.stop()


def _start(
    running: list[ControllerProcess], tmp_path: Path, manifests: Path, *extra: str
) -> ControllerProcess:
    controller = ControllerProcess(manifests, tmp_path / "db.sqlite", extra=extra)
    running.append(controller.start())
    return controller


def _following(
    running: list[ControllerProcess],
    tmp_path: Path,
    manifests: Path,
    origin: Path,
    *,
    interval: str,
    extra: tuple[str, ...] = ("--no-api",),
) -> ControllerProcess:
    """A controller following ``origin``'s ``stacks/`` folder with ``--git-url``."""
    git = ("--git-url", str(origin), "--git-path", "stacks", "--git-interval", interval)
    return _start(running, tmp_path, manifests, *git, *extra)


def _web(docker_client, stack: str) -> list:
    return docker_client.containers.list(
        all=True, filters={"label": [f"com.docker.compose.project={stack}"]}
    )


def _env(container) -> str:
    return next(e for e in container.attrs["Config"]["Env"] if e.startswith("GREETING="))


def _latest(controller: ControllerProcess, stack: str):
    with controller.db() as db:
        return db.stack_versions.latest(stack)


def _synced(controller: ControllerProcess, stack: str, version: str) -> bool:
    with controller.db() as db:
        found = db.stacks.get(stack)
    return found is not None and found.applied_version == version


def test_commits_add_edit_and_remove_stacks_and_a_force_push_goes_back(
    tmp_path, manifests, pusher, origin, running, docker_client, test_images, engine_janitor
) -> None:
    a, b = engine_janitor.project("a"), engine_janitor.project("b")
    pusher.write(
        {f"stacks/{a}.yaml": _compose(test_images.v1), f"stacks/{b}.yaml": _compose(test_images.v1)}
    )
    first = pusher.commit("add a and b", author="Ann <ann@example.com>")
    pusher.push()
    controller = _following(running, tmp_path, manifests, origin, interval="1")

    wait_for(lambda: _synced(controller, a, "v1") and _synced(controller, b, "v1"),
             what="both stacks applied", timeout=60)  # fmt: skip
    version = _latest(controller, a)
    assert version.metadata.git_commit == first
    assert version.metadata.git_repository == "default"
    assert version.metadata.git_ref == "main"
    assert version.metadata.git_author == "Ann <ann@example.com>"
    assert version.metadata.git_subject == "add a and b"
    assert len(_web(docker_client, a)) == 1 and len(_web(docker_client, b)) == 1

    # An edit of a, and b removed, in one commit.
    pusher.write({f"stacks/{a}.yaml": _compose(test_images.v1, env="two")}).remove(
        f"stacks/{b}.yaml"
    )
    second = pusher.commit("edit a, remove b")
    pusher.push()
    wait_for(lambda: _synced(controller, a, "v2"), what="a v2 applied", timeout=60)
    assert _latest(controller, a).metadata.git_commit == second
    wait_for(lambda: not _web(docker_client, b), what="b deleted", timeout=60)
    (container,) = _web(docker_client, a)
    assert _env(container) == "GREETING=two"

    # A force push back to the first commit: the ref's commit is the truth.
    pusher.reset(first).push(force=True)
    wait_for(lambda: _synced(controller, a, "v3"), what="a v3 (the first spec) applied",
             timeout=60)  # fmt: skip
    # b's manifest is back unchanged: its last version is made current and applied again.
    wait_for(lambda: _web(docker_client, b), what="b back", timeout=60)
    wait_for(lambda: _synced(controller, b, "v1"), what="b's v1 applied again", timeout=60)
    (container,) = _web(docker_client, a)
    assert _env(container) == "GREETING=one"
    assert _latest(controller, a).metadata.git_commit == first
    with controller.db() as db:
        repository = db.repositories.require("default")
    assert repository.last_commit == first and repository.last_error is None


def test_an_invalid_manifest_keeps_its_last_good_version_and_the_others_apply(
    tmp_path, manifests, pusher, origin, running, docker_client, test_images, engine_janitor
) -> None:
    a, b = engine_janitor.project("a"), engine_janitor.project("b")
    pusher.write(
        {f"stacks/{a}.yaml": _compose(test_images.v1), f"stacks/{b}.yaml": _compose(test_images.v1)}
    )
    pusher.commit("two stacks")
    pusher.push()
    controller = _following(running, tmp_path, manifests, origin, interval="1")
    wait_for(lambda: _synced(controller, a, "v1") and _synced(controller, b, "v1"),
             what="both applied", timeout=60)  # fmt: skip

    pusher.write(
        {
            f"stacks/{a}.yaml": "services:\n  web:\n    image: [not, a, string]\n",
            f"stacks/{b}.yaml": _compose(test_images.v1, env="two"),
        }
    )
    pusher.commit("break a, edit b")
    pusher.push()
    wait_for(lambda: _synced(controller, b, "v2"), what="b v2 applied", timeout=60)

    def said_invalid() -> bool:
        with controller.db() as db:
            events = db.events.list(stack_id=a, limit=50).items
        return any(e.reason == "ManifestInvalid" and f"{a}.yaml" in e.message for e in events)

    wait_for(said_invalid, what="a ManifestInvalid event for a", timeout=30)
    assert _latest(controller, a).version == "v1"
    (container,) = _web(docker_client, a)
    assert container.status == "running"


def test_an_unreachable_repository_deletes_nothing_and_says_why(
    tmp_path, manifests, pusher, origin, running, docker_client, test_images, engine_janitor
) -> None:
    a = engine_janitor.project("a")
    pusher.write({f"stacks/{a}.yaml": _compose(test_images.v1)})
    pusher.commit("one stack")
    pusher.push()
    port = _port()
    with GitDaemon(origin.parent, tmp=tmp_path) as daemon:
        (manifests / "infra.yaml").write_text(
            "apiVersion: stackctl/v1\n"
            "kind: Repository\n"
            "metadata: {name: infra}\n"
            f"spec: {{url: '{daemon.url(origin.name)}', path: stacks, interval: 1s}}\n"
        )
        controller = _start(running, tmp_path, manifests, "--api", f"127.0.0.1:{port}")
        wait_for(lambda: _synced(controller, a, "v1"), what="a applied", timeout=60)
    # The daemon is gone: every fetch fails from now on.

    def failing() -> bool:
        with controller.db() as db:
            repository = db.repositories.require("infra")
        return repository.last_result == "failed" and bool(repository.last_error)

    wait_for(failing, what="the fetch failure recorded", timeout=30)
    ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
    assert ready.status_code == 503
    assert "infra" in ready.json()["reason"]
    with controller.db() as db:
        events = db.events.list(limit=100).items
    assert [e for e in events if e.reason == "RepositoryFetchFailed"]
    time.sleep(2)  # more failed fetches: still nothing deleted
    (container,) = _web(docker_client, a)
    assert container.status == "running"
    with controller.db() as db:
        assert db.stacks.get(a).current_version == "v1"


def test_a_stack_both_the_folder_and_a_repository_declare_is_invalid_in_both(
    tmp_path, manifests, pusher, origin, running, docker_client, test_images, engine_janitor
) -> None:
    a = engine_janitor.project("a")
    (manifests / f"{a}.yaml").write_text(_compose(test_images.v1, env="folder"))
    controller = _start(running, tmp_path, manifests, "--no-api")
    wait_for(lambda: _synced(controller, a, "v1"), what="a from the folder applied", timeout=60)
    controller.stop()

    pusher.write({f"stacks/{a}.yaml": _compose(test_images.v1, env="repository")})
    pusher.commit("a, again")
    pusher.push()
    controller = _following(running, tmp_path, manifests, origin, interval="1")

    def both_said() -> bool:
        with controller.db() as db:
            events = db.events.list(stack_id=a, limit=50).items
        said = [e.message for e in events if e.reason == "ManifestInvalid"]
        return any("repository default" in m for m in said) and any(
            "the watched directory" in m for m in said
        )

    wait_for(both_said, what="both sources told the name is declared twice", timeout=30)
    assert _latest(controller, a).version == "v1"
    (container,) = _web(docker_client, a)
    assert _env(container) == "GREETING=folder"


def _github(secret: bytes, body: dict, *, delivery: str) -> tuple[dict[str, str], bytes]:
    raw = json.dumps(body).encode()
    signature = "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()
    headers = {
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature,
        "Content-Type": "application/json",
    }
    return headers, raw


def test_a_signed_push_webhook_fetches_at_once_and_a_bad_one_is_refused(
    tmp_path, manifests, pusher, origin, running, docker_client, test_images, engine_janitor
) -> None:
    a = engine_janitor.project("a")
    pusher.write({f"stacks/{a}.yaml": _compose(test_images.v1)})
    pusher.commit("one stack")
    pusher.push()
    secret = tmp_path / "hook-secret"
    secret.write_text("s3cret\n")
    port = _port()
    controller = _following(
        running, tmp_path, manifests, origin, interval="3600",
        extra=("--api", f"127.0.0.1:{port}", "--git-webhook-secret-file", str(secret)),
    )  # fmt: skip
    wait_for(lambda: _synced(controller, a, "v1"), what="a applied", timeout=60)

    pusher.write({f"stacks/{a}.yaml": _compose(test_images.v1, env="two")})
    after = pusher.commit("edit a")
    pusher.push()
    hook = f"http://127.0.0.1:{port}/api/v1/hooks/git?repository=default"
    payload = {  # the fields of a GitHub push this reads (the whole shape: tests/git/payloads)
        "ref": "refs/heads/main",
        "after": after,
        "repository": {"full_name": "ops/infra", "clone_url": str(origin)},
    }

    headers, raw = _github(b"wrong", payload, delivery="d-0")
    assert httpx.post(hook, headers=headers, content=raw, timeout=5).status_code == 401
    other = {**payload, "ref": "refs/heads/feature"}
    headers, raw = _github(b"s3cret", other, delivery="d-1")
    answer = httpx.post(hook, headers=headers, content=raw, timeout=5)
    assert answer.status_code == 202 and "ignored" in answer.json()["message"]
    time.sleep(1.5)
    assert _latest(controller, a).version == "v1"  # neither fetched (interval: an hour)

    headers, raw = _github(b"s3cret", payload, delivery="d-2")
    answer = httpx.post(hook, headers=headers, content=raw, timeout=5)
    assert answer.status_code == 202, answer.text
    wait_for(lambda: _synced(controller, a, "v2"), what="a v2 applied after the push", timeout=30)
    assert _latest(controller, a).metadata.git_commit == after
    again = httpx.post(hook, headers=headers, content=raw, timeout=5)
    assert again.status_code == 202 and "before" in again.json()["message"]
    metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert 'stackctl_webhook_requests_total{provider="github",result="accepted"} 1.0' in metrics
    assert 'stackctl_webhook_requests_total{provider="github",result="unauthorized"} 1.0' in metrics
    assert "stackctl_git_push_to_apply_seconds_count 1.0" in metrics


def test_a_repository_over_ssh_with_strict_host_keys(
    tmp_path, manifests, pusher, origin, running, docker_client, test_images, engine_janitor
) -> None:
    a = engine_janitor.project("a")
    pusher.write({f"stacks/{a}.yaml": _compose(test_images.v1)})
    sha = pusher.commit("over ssh")
    pusher.push()
    with SshServer(tmp_path) as sshd:
        (manifests / "infra.yaml").write_text(
            "apiVersion: stackctl/v1\n"
            "kind: Repository\n"
            "metadata: {name: infra}\n"
            "spec:\n"
            f"  url: '{sshd.url(origin)}'\n"
            "  path: stacks\n"
            "  interval: 1s\n"
            f"  auth: {{sshKeyFile: '{sshd.client_key}', knownHostsFile: '{sshd.known_hosts}'}}\n"
        )
        # The key files are the operator's, outside the watched directory.
        controller = _start(
            running, tmp_path, manifests, "--no-api", "--secrets-dir", str(tmp_path)
        )
        wait_for(lambda: _synced(controller, a, "v1"), what="a applied over ssh", timeout=60)
        assert _latest(controller, a).metadata.git_commit == sha
        controller.stop()


def test_stackctl_sync_repository_fetches_now_and_history_names_the_commit(
    tmp_path, manifests, pusher, origin, running, docker_client, test_images, engine_janitor
) -> None:
    a = engine_janitor.project("a")
    pusher.write({f"stacks/{a}.yaml": _compose(test_images.v1)})
    pusher.commit("one stack")
    pusher.push()
    controller = _following(running, tmp_path, manifests, origin, interval="3600")
    wait_for(lambda: _synced(controller, a, "v1"), what="a applied", timeout=60)
    pusher.write({f"stacks/{a}.yaml": _compose(test_images.v1, env="two")})
    after = pusher.commit("edit a")
    pusher.push()

    cli = [sys.executable, "-m", "controller"]
    db = ["--db", str(controller.db_path)]
    synced = subprocess.run(
        [*cli, "sync", "--repository", "default", "--wait", "--timeout", "30", *db],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert synced.returncode == 0, synced.stderr
    assert f"changed at {after[:12]}" in synced.stdout
    wait_for(lambda: _synced(controller, a, "v2"), what="a v2 applied", timeout=60)

    listed = subprocess.run([*cli, "get", "repositories", *db], capture_output=True, text=True)
    assert "default" in listed.stdout and after[:12] in listed.stdout
    shown = subprocess.run([*cli, "history", a, *db], capture_output=True, text=True)
    assert f"default:main@{after[:10]}" in shown.stdout, shown.stdout
    described = subprocess.run(
        [*cli, "describe", "repository", "default", *db], capture_output=True, text=True
    )
    assert a in described.stdout and "Declared by:  --git-url" in described.stdout
    stack = subprocess.run([*cli, "describe", a, *db], capture_output=True, text=True)
    assert f"of repository default (main) at {after[:12]} by" in stack.stdout, stack.stdout
    unknown = subprocess.run(
        [*cli, "sync", "--repository", "nope", *db], capture_output=True, text=True
    )
    assert unknown.returncode == 1 and "no repository named 'nope'" in unknown.stderr


def test_a_hung_repository_holds_up_neither_the_others_nor_the_shutdown(
    tmp_path, manifests, pusher, origin, running, docker_client, test_images, engine_janitor
) -> None:
    a = engine_janitor.project("a")
    pusher.write({f"stacks/{a}.yaml": _compose(test_images.v1)})
    pusher.commit("one stack")
    pusher.push()
    with HungServer() as hung:
        hung_url = f"git://127.0.0.1:{hung.port}/never.git"
        (manifests / "repos.yaml").write_text(
            "apiVersion: stackctl/v1\nkind: Repository\nmetadata: {name: hung}\n"
            f"spec: {{url: '{hung_url}', interval: 1s}}\n"
            "---\n"
            "apiVersion: stackctl/v1\nkind: Repository\nmetadata: {name: infra}\n"
            f"spec: {{url: '{origin}', path: stacks, interval: 1s}}\n"
        )
        controller = _start(running, tmp_path, manifests, "--no-api")
        wait_for(lambda: _synced(controller, a, "v1"), what="infra's stack applied", timeout=60)
        assert processes_mentioning(str(hung.port)), "the hung fetch should be in flight"
        started = time.monotonic()
        assert controller.stop() == 0
        stopped_in = time.monotonic() - started
        # Not a timing test: without cancelling, the stop waits out the 60 s fetch timeout.
        assert stopped_in < 30, f"stopping took {stopped_in:.1f}s behind a hung fetch"
        assert processes_mentioning(str(hung.port)) == []


def test_gitea_and_gitlab_pushes_find_their_repository_by_url(
    tmp_path, manifests, pusher, origin, running, docker_client, test_images, engine_janitor
) -> None:
    a = engine_janitor.project("a")
    pusher.write({f"stacks/{a}.yaml": _compose(test_images.v1)})
    pusher.commit("one stack")
    pusher.push()
    (tmp_path / "secret").write_text("gitea-and-gitlab")
    port = _port()
    with GitDaemon(origin.parent, tmp=tmp_path) as daemon:
        url = daemon.url(origin.name)
        (manifests / "infra.yaml").write_text(
            "apiVersion: stackctl/v1\nkind: Repository\nmetadata: {name: infra}\n"
            f"spec: {{url: '{url}', path: stacks, interval: 1h,"
            f" webhook: {{secretFile: '{tmp_path / 'secret'}'}}}}\n"
        )
        controller = _start(
            running,
            tmp_path,
            manifests,
            "--api",
            f"127.0.0.1:{port}",
            "--secrets-dir",
            str(tmp_path),
        )
        wait_for(lambda: _synced(controller, a, "v1"), what="a applied", timeout=60)
        hook = f"http://127.0.0.1:{port}/api/v1/hooks/git"  # no ?repository=: by URL

        pusher.write({f"stacks/{a}.yaml": _compose(test_images.v1, env="gitea")})
        after = pusher.commit("gitea push")
        pusher.push()
        body = json.dumps(
            {
                "ref": "refs/heads/main",
                "after": after,
                "repository": {"full_name": "ops/infra", "clone_url": url},
            }
        ).encode()
        signature = hmac.new(b"gitea-and-gitlab", body, hashlib.sha256).hexdigest()
        headers = {
            "X-Gitea-Event": "push",
            "X-Gitea-Delivery": "g-1",
            "X-Gitea-Signature": signature,
            "Content-Type": "application/json",
        }
        answer = httpx.post(hook, headers=headers, content=body, timeout=5)
        assert answer.status_code == 202 and answer.json()["repository"] == "infra", answer.text
        wait_for(lambda: _synced(controller, a, "v2"), what="a v2 after Gitea's push", timeout=30)

        pusher.write({f"stacks/{a}.yaml": _compose(test_images.v1, env="gitlab")})
        after = pusher.commit("gitlab push")
        pusher.push()
        body = json.dumps(
            {
                "object_kind": "push",
                "ref": "refs/heads/main",
                "after": after,
                "project": {"path_with_namespace": "ops/infra", "git_http_url": url},
            }
        ).encode()
        headers = {
            "X-Gitlab-Event": "Push Hook",
            "X-Gitlab-Token": "gitea-and-gitlab",
            "Content-Type": "application/json",
        }
        answer = httpx.post(hook, headers=headers, content=body, timeout=5)
        assert answer.status_code == 202, answer.text
        wait_for(lambda: _synced(controller, a, "v3"), what="a v3 after GitLab's push", timeout=30)
        headers["X-Gitlab-Token"] = "wrong"
        assert httpx.post(hook, headers=headers, content=body, timeout=5).status_code == 401
        controller.stop()
