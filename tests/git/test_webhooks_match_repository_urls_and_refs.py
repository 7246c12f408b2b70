"""Which sources a push is for: repository_matches compares a source's URL with every URL in the
push, whatever the transport; ref_matches reads the source's ref the way the fetcher does."""

from __future__ import annotations

import hashlib
import hmac
import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.sources.git.matching import ref_matches, repository_matches
from controller.sources.git.webhooks import Ping, Provider, Push, Unauthorized, read_push

PAYLOADS = Path(__file__).parent / "payloads"


def push_from(*urls: str) -> Push:
    return Push(Provider.GITHUB, urls, "org/repo", "refs/heads/main", "0" * 40, None)


SAME_REPOSITORY = [
    "https://host/org/repo.git",
    "https://host/org/repo",
    "http://HOST/org/repo/",
    "git@host:org/repo.git",
    "ssh://git@host:22/org/repo.git",
    "git://host/org/repo",
    "host:org/repo",
    "ssh://host/org/repo",
    "git+ssh://git@host/org/repo.git",
    "git://host:9418/org/repo.git",
    "https://host:443/org/repo.git/",
    "https://x-access-token:ghp_secret@host/org/repo.git",
    "https://Host/Org/Repo.git",
    "https://host//org/repo.git",
]


def test_every_spelling_of_one_repository_matches_every_other():
    mismatched = [
        (spec, pushed)
        for spec, pushed in itertools.product(SAME_REPOSITORY, repeat=2)
        if not repository_matches(spec, push_from(pushed))
    ]
    assert mismatched == []


@pytest.mark.parametrize(
    "spec",
    [
        "https://host/org/other.git",
        "https://host/other/repo.git",
        "https://host/org/repo-two.git",
        "https://host/org/repo/sub.git",
        "https://host/org.git",
        "https://otherhost/org/repo.git",
        "https://host.evil.example/org/repo.git",
        "https://host:8443/org/repo.git",  # another port is another server
        "ssh://git@host:2222/org/repo.git",
        "/srv/git/org/repo.git",  # a local path: no webhook is about one
        "file:///host/org/repo.git",
        "https://host/",
        "https://[::1/org/repo.git",
        "",
    ],
)
def test_another_repository_does_not_match(spec):
    assert not repository_matches(spec, push_from(*SAME_REPOSITORY))


def test_a_non_default_port_matches_itself():
    push = push_from("ssh://git@git.example.org:2222/ops/stacks.git")
    assert repository_matches("ssh://git@git.example.org:2222/ops/stacks", push)
    assert repository_matches("ssh://GIT.example.org:2222/ops/stacks.git/", push)
    assert not repository_matches("git@git.example.org:ops/stacks.git", push)


def test_ipv6_hosts_compare_in_both_spellings():
    push = push_from("ssh://git@[2001:db8::1]/org/repo.git")
    assert repository_matches("git@[2001:db8::1]:org/repo.git", push)
    assert not repository_matches("git@[2001:db8::2]:org/repo.git", push)


EVENT_HEADER = {"github": "X-GitHub-Event", "gitea": "X-Gitea-Event", "forgejo": "X-Forgejo-Event"}


@pytest.mark.parametrize(
    ("payload", "spec"),
    [
        ("github_push", "git@github.com:codertocat/hello-world.git"),
        ("github_push", "https://github.com/Codertocat/Hello-World"),
        ("gitea_push", "https://git.example.org/ops/stacks"),
        ("gitea_push", "ssh://git@git.example.org:2222/ops/stacks.git"),
        ("gitea_push", "git@git.example.org:ops/stacks.git"),  # through the https clone URL
        ("forgejo_push", "https://codeberg.org/meisam/woodpecktester"),
        ("gitlab_push", "ssh://git@example.com/mike/diaspora.git"),
        ("gitlab_tag_push", "https://example.com/jsmith/example"),
    ],
)
def test_a_real_payload_matches_its_repository_by_any_of_its_urls(payload, spec):
    """Matched after verifying (the secrets chose the candidates), on what the push says."""
    provider = payload.partition("_")[0]
    header = EVENT_HEADER.get(provider, "X-Gitlab-Event")
    body = (PAYLOADS / f"{payload}.json").read_bytes()
    mac = hmac.new(b"s", body, hashlib.sha256).hexdigest()
    credential = {
        "github": ("X-Hub-Signature-256", f"sha256={mac}"),
        "gitea": ("X-Gitea-Signature", mac),
        "forgejo": ("X-Forgejo-Signature", mac),
        "gitlab": ("X-Gitlab-Token", "s"),
    }[provider]
    gitlab_event = "Tag Push Hook" if "tag" in payload else "Push Hook"
    event = gitlab_event if provider == "gitlab" else "push"
    push = read_push(headers=dict([(header, event), credential]), body=body, secret=b"s")
    assert not isinstance(push, Unauthorized)
    assert isinstance(push, Push | Ping), push
    assert repository_matches(spec, push)
    assert not repository_matches(spec.removesuffix(".git") + "-fork", push)


_NAME = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,10}", fullmatch=True)


@given(host=_NAME, org=_NAME, repo=_NAME, other=_NAME)
def test_forms_agree_on_any_names_and_a_different_name_never_matches(host, org, repo, other):
    forms = [
        f"https://{host}.example/{org}/{repo}.git",
        f"git@{host}.example:{org}/{repo}",
        f"ssh://git@{host}.example:22/{org}/{repo}/",
        f"git://{host}.example/{org}/{repo}.git",
    ]
    push = push_from(forms[0])
    assert all(repository_matches(form, push) for form in forms)
    if other != repo:
        assert not repository_matches(f"https://{host}.example/{org}/{other}", push)


SHA1 = "be42068a54defbbb573bb5738df5ff4a12f62181"
SHA256 = "a" * 64


@pytest.mark.parametrize(
    ("spec_ref", "push_ref", "matches"),
    [
        ("main", "refs/heads/main", True),
        ("main", "refs/heads/dev", False),  # another branch: 202, nothing fetched
        ("main", "refs/heads/main2", False),
        ("main", "refs/remotes/origin/main", False),
        ("Main", "refs/heads/main", False),  # refs are case-sensitive
        ("feature/x", "refs/heads/feature/x", True),
        ("v1", "refs/tags/v1", True),
        ("v1", "refs/tags/v1.1", False),
        ("main", "refs/tags/main", True),  # the fetcher takes a tag when no branch has the name
        ("refs/heads/x", "refs/heads/x", True),
        ("refs/heads/x", "refs/tags/x", False),
        ("refs/tags/v1", "refs/tags/v1", True),
        ("refs/tags/v1", "refs/heads/v1", False),
        (SHA1, f"refs/heads/{SHA1}", False),  # a commit never moves
        (SHA1, "refs/heads/main", False),
        (SHA1.upper(), "refs/heads/main", False),
        (SHA256, "refs/heads/main", False),
        ("be42068", "refs/heads/main", False),  # an abbreviated commit is not pushed to either
    ],
)
def test_ref_matches_table(spec_ref, push_ref, matches):
    assert ref_matches(spec_ref, push_ref) is matches
