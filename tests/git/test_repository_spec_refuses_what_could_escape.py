"""A repository spec is validated once, so nothing downstream can hand git an option, a remote
helper or a folder outside the checkout, and every refusal says what is wrong in words."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from controller.desired.repository_spec import RepositorySpec, transport_of


@pytest.mark.parametrize(
    ("url", "transport"),
    [
        ("https://git.example.com/ops/shop.git", "http"),
        ("http://127.0.0.1:8080/shop.git", "http"),
        ("git@git.example.com:ops/shop.git", "ssh"),
        ("ssh://git@git.example.com:2222/ops/shop.git", "ssh"),
        ("git://127.0.0.1/shop.git", "git"),
        ("file:///srv/git/shop.git", "file"),
        ("/srv/git/shop.git", "local"),
        ("./repos/shop.git", "local"),
        ("repos/with:colon", "local"),  # a slash before the colon: a path, as git decides
    ],
)
def test_every_supported_url_form_is_accepted(url: str, transport: str) -> None:
    assert RepositorySpec(name="shop", url=url).url == url
    assert transport_of(url) == transport


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url": "ext::sh -c touch% /tmp/pwned"}, "remote helper"),
        ({"url": "fd::3"}, "remote helper"),
        ({"url": "-oProxyCommand=touch /tmp/pwned:x"}, "must not start with '-'"),
        ({"url": "ssh://-oProxyCommand=x/shop.git"}, "no valid host"),
        ({"url": "-x@host:path"}, "must not start with '-'"),
        ({"url": "ftp://host/shop.git"}, "unsupported URL scheme"),
        ({"url": "https://host/x\ny"}, "spaces"),
        ({"url": ""}, "empty"),
        ({"path": "/etc"}, "not absolute"),
        ({"path": "stacks/../../etc"}, "no '..'"),
        ({"path": ".."}, "no '..'"),
        ({"ref": "--upload-pack=touch"}, "not a valid branch"),
        ({"ref": "main\nrefs/heads/other"}, "not a valid branch"),
        ({"ref": "a..b"}, "not a valid branch"),
        ({"ref": ""}, "not a valid branch"),
        ({"name": "../escape"}, "repository name"),
        ({"name": ""}, "repository name"),
        ({"interval_s": 0}, "greater than 0"),
        ({"token_file": Path("/t"), "url": "git@host:x.git"}, "token_file is only used"),
        ({"ssh_key_file": Path("/k")}, "only used with ssh"),
        ({"surprise": 1}, "Extra inputs are not permitted"),
    ],
)
def test_a_spec_that_could_escape_is_refused_with_a_reason(
    fields: dict[str, object], message: str
) -> None:
    values: dict[str, object] = {"name": "shop", "url": "https://host/shop.git", **fields}
    with pytest.raises(ValidationError, match=message):
        RepositorySpec(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["ftp://me:hunter2@host/x.git", "https://me:hunter2@-host/x.git"])
def test_a_refused_url_is_shown_without_its_password(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        RepositorySpec(name="shop", url=url)
    assert "hunter2" not in str(caught.value)
    assert "https://me:***@-host/x.git" in str(caught.value) or "ftp" in str(caught.value)


def test_defaults_and_normalised_path() -> None:
    spec = RepositorySpec(name="shop", url="/srv/shop.git", path="./stacks/")
    assert (spec.ref, spec.path, spec.interval_s) == ("main", "stacks", 60)
    assert RepositorySpec(name="shop", url="/srv/shop.git", path="").path == "."
    with pytest.raises(ValidationError):
        spec.ref = "other"  # type: ignore[misc]  # frozen
