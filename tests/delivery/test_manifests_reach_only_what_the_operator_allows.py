"""What a manifest may reach (issue 24, item 12): the three attacks of the issue, through the
real watcher and loader and through the sender, against a real HTTP receiver on 127.0.0.1.

A manifest may name only the destinations the operator allows (``--notify-allow``; link-local
and metadata addresses only by name) and only files inside its root or ``--secrets-dir``; what
is refused is a manifest error naming the file and the key, and nothing is sent.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from helpers.recorder import Recorder
from helpers.stacks import desired_stack

from controller.db import Database
from controller.delivery.notifications import destinations
from controller.delivery.notifications.sender import Sender
from controller.desired.delivery import CommitStatus
from controller.desired.reach import Reach, pattern_problem
from controller.desired.repository_spec import RepositorySpec
from controller.models import StackMetadata
from controller.sources.versions import record_version, version_payload
from controller.sources.watcher import Watcher

SHA = "0123456789abcdef0123456789abcdef01234567"
COMPOSE = {"services": {"web": {"image": "busybox:1", "pull_policy": "never"}}}


def stack(notify: str) -> str:
    return (
        "apiVersion: stackctl/v1\nkind: Stack\nmetadata: {name: shop}\nspec:\n"
        f"  notify: ['{notify}']\n"
        "  compose: {services: {web: {image: 'busybox:1'}}}\n"
    )


def repository(api: str, token: str) -> str:
    return (
        "apiVersion: stackctl/v1\nkind: Repository\nmetadata: {name: infra}\nspec:\n"
        "  url: https://git.example.com/ops/infra.git\n"
        f"  commitStatus: {{provider: github, tokenFile: {token}, apiUrl: '{api}'}}\n"
    )


def errors(watcher: Watcher, source: str) -> list[tuple[str, str, str]]:
    assert watcher.last is not None
    return [(e.file, e.path, e.message) for e in watcher.last.sources[source].errors]


def test_a_metadata_address_is_refused_unless_allowed_by_name(db, root, recorder: Recorder):
    (root / "shop.yaml").write_text(stack("json://169.254.169.254/latest/meta-data"))
    watcher = Watcher(db, root, reach=Reach(notify_allow=("*",)))
    assert watcher.sync().recorded == []
    ((file, key, message),) = errors(watcher, "shop.yaml")
    assert (file, key) == ("shop.yaml", "spec.notify[0]")
    assert "link-local or cloud metadata" in message and "--notify-allow 169.254.169.254" in message
    # Every IPv4 spelling of it, and its names, are the same address.
    for url in (
        "json://2852039166/x",
        "json://0xa9.0xfe.0xa9.0xfe/x",
        "json://[::ffff:a9fe:a9fe]/",
        "json://metadata.google.internal/x",
        "webhook+http://169.254.1.1/x?secret_file=/s",
    ):
        assert "link-local" in (Reach(notify_allow=("*",)).destination_problem(url) or ""), url
    named = Watcher(db, root, reach=Reach(notify_allow=("169.254.169.254",)))
    assert named.sync().recorded == ["shop v1"]


def test_without_an_allow_list_a_manifest_names_no_destination(db, root, recorder: Recorder):
    (root / "shop.yaml").write_text(stack(f"json://{recorder.base}/hook"))
    sender = Sender(db, reach=Reach())
    watcher = Watcher(db, root)
    assert watcher.sync().recorded == []
    ((_, key, message),) = errors(watcher, "shop.yaml")
    assert key == "spec.notify[0]" and "--notify-allow 127.0.0.1" in message
    sender.drain()
    assert recorder.received("/") == []
    # Allowed by host:port, the version is recorded and its message reaches the receiver.
    allow = Reach(notify_allow=(f"{recorder.base}",))
    assert Watcher(db, root, reach=allow).sync().recorded == ["shop v1"]
    Sender(db, reach=allow).drain()
    (request,) = recorder.wait_for("/hook")
    assert request.headers["x-stackctl-event"] == "version.recorded"


def test_a_webhook_secret_file_outside_the_root_is_refused(db, root, recorder: Recorder, tmp_path):
    url = f"webhook+http://{recorder.base}/signed?secret_file=/etc/hostname"
    (root / "shop.yaml").write_text(stack(url))
    allow = Reach(notify_allow=("127.0.0.1",))
    watcher = Watcher(db, root, reach=allow)
    assert watcher.sync().recorded == []
    ((file, key, message),) = errors(watcher, "shop.yaml")
    assert (file, key) == ("shop.yaml", "spec.notify[0]")
    assert "secret_file `/etc/hostname` is outside the manifest's root" in message
    Sender(db, reach=allow).drain()
    assert recorder.received("/") == []
    # Through a symlink inside the root: still the file it resolves to.
    (root / "key").symlink_to("/etc/hostname")
    (root / "shop.yaml").write_text(stack(url.replace("/etc/hostname", str(root / "key"))))
    assert watcher.sync().recorded == []
    assert "outside the manifest's root" in errors(watcher, "shop.yaml")[0][2]
    # Inside the operator's secrets folder, or inside the root, it is read.
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "hook").write_text("s3cret")
    (root / "shop.yaml").write_text(stack(url.replace("/etc/hostname", str(secrets / "hook"))))
    with_secrets = Reach(notify_allow=("127.0.0.1",), secrets_dir=secrets)
    assert Watcher(db, root, reach=with_secrets).sync().recorded == ["shop v1"]
    Sender(db, reach=with_secrets).drain()
    assert recorder.wait_for("/signed")[0].headers["x-stackctl-signature-256"].startswith("sha256=")


def test_a_repository_token_file_and_api_outside_the_policy_are_refused(db, root, tmp_path):
    (root / "infra.yaml").write_text(repository("http://127.0.0.1:18599/cs", "/etc/hostname"))
    watcher = Watcher(db, root)
    watcher.sync()
    assert watcher.last is not None and watcher.last.repositories == {}
    found = {key: message for _, key, message in errors(watcher, "infra.yaml")}
    assert set(found) == {"spec.commitStatus.tokenFile", "spec.commitStatus.apiUrl"}
    assert "`/etc/hostname` is outside the manifest's root" in found["spec.commitStatus.tokenFile"]
    assert "http://127.0.0.1:18599" in found["spec.commitStatus.apiUrl"]
    # The same for the fetch credentials and the webhook secret.
    (root / "infra.yaml").write_text(
        "apiVersion: stackctl/v1\nkind: Repository\nmetadata: {name: infra}\nspec:\n"
        "  url: https://git.example.com/ops/infra.git\n"
        "  auth: {tokenFile: ../../../etc/hostname}\n  webhook: {secretFile: /etc/passwd}\n"
    )
    watcher.sync()
    assert {key for _, key, _ in errors(watcher, "infra.yaml")} == {
        "spec.auth.tokenFile",
        "spec.webhook.secretFile",
    }
    # Allowed by the operator: followed.
    (root / "infra.yaml").write_text(repository("http://127.0.0.1:18599/cs", "/etc/hostname"))
    allowed = Watcher(
        db, root, reach=Reach(notify_allow=("127.0.0.1:18599",), secrets_dir=Path("/etc"))
    )
    allowed.sync()
    assert allowed.last is not None
    assert allowed.last.repositories["infra"].commit_status is not None


def _from_repository(db: Database, tmp_path: Path) -> None:
    meta = StackMetadata(created_by="stackctl watcher", git_repository="infra", git_commit=SHA)
    version = record_version(
        db, desired_stack(tmp_path, "shop", COMPOSE), root=tmp_path, metadata=meta
    )
    assert version is not None
    db.outbox.add(
        "apply.succeeded",
        key="apply.succeeded:1",
        stack_id="shop",
        payload=version_payload(version, message="shop v1 applied"),
    )


def test_the_sender_checks_a_declared_repositorys_forge_again(db, recorder: Recorder, tmp_path):
    """A repository declared before the policy (or under a looser one) is checked at send
    time; the --git-url repository is the operator's own and is not."""
    token = tmp_path / "token"
    token.write_text("tok")
    declared = RepositorySpec(
        name="infra",
        url="https://git.example.com/ops/infra.git",
        commit_status=CommitStatus(
            provider="github", token_file=token, api_url=f"http://{recorder.base}/cs"
        ),
    )
    _from_repository(db, tmp_path)
    Sender(db, repository=lambda name: declared, reach=Reach()).drain()
    assert recorder.received("/") == []
    (message,) = [m for m in db.outbox.messages() if m["kind"] == "apply.succeeded"]
    (delivery,) = message["deliveries"]
    assert delivery["status"] == "FAILED" and "refused" in delivery["error"]
    db.outbox.add(
        "apply.succeeded",
        key="apply.succeeded:2",
        stack_id="shop",
        payload={**message_payload(db), "message": "again"},
    )
    Sender(db, repository=lambda name: declared, reach=Reach(), trusted_repository=declared).drain()
    assert recorder.wait_for("/cs")[0].headers["authorization"] == "Bearer tok"


def message_payload(db: Database) -> dict:
    (version,) = db.stack_versions.list("shop")
    return version_payload(version, message="")


def test_a_name_that_resolves_to_a_link_local_address_is_refused_at_send_time(
    db, recorder: Recorder, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    """The source layer resolves nothing; the sender does, before sending. No resolver here
    answers a link-local address for a name, so this one test stands one in for the name."""
    real = socket.getaddrinfo

    def resolver(host, *args, **kwargs):
        if host == "rebind.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 80))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(destinations.socket, "getaddrinfo", resolver)
    url = "json://rebind.example/latest"
    with pytest.raises(destinations.PermanentError, match=r"resolves to 169\.254\.169\.254"):
        destinations.check_reach(url, Reach(notify_allow=("*.example",)))
    destinations.check_reach(url, Reach(notify_allow=("rebind.example",)))  # named: allowed
    destinations.check_reach(f"json://{recorder.base}/x", Reach(notify_allow=("*",)))


@pytest.mark.parametrize(
    ("pattern", "url", "allowed"),
    [
        ("hooks.internal", "json://hooks.internal:9000/x", True),
        ("hooks.internal:9000", "json://hooks.internal:9001/x", False),
        ("hooks.internal:80", "json://hooks.internal/x", True),
        ("*.internal", "ntfy://ntfy.internal/ops", True),
        ("*.internal", "ntfy://internal.evil.com/ops", False),
        ("slack://", "slack://T0/B0/tok", True),
        (
            "https://ci.internal/stackctl",
            "webhook+https://ci.internal/stackctl/a?secret_file=/s",
            True,
        ),
        ("https://ci.internal/stackctl", "https://ci.internal/stackctlx", False),
        ("https://ci.internal", "https://ci.internal.evil.com/", False),
        ("[fd00::1]", "json://[fd00::1]:8080/", True),
    ],
)
def test_allow_patterns(pattern: str, url: str, allowed: bool):
    assert pattern_problem(pattern) is None
    assert (Reach(notify_allow=(pattern,)).destination_problem(url) is None) == allowed


def test_bad_allow_patterns_are_named():
    assert pattern_problem("https://u:p@h/") is not None
    assert pattern_problem("host:port") is not None
    assert pattern_problem("a b") is not None
